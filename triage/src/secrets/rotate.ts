import type pg from 'pg';
import {
  isSealed,
  practiceSecretFields,
  resealPracticeSecrets,
  sealedKid,
  SecretUnreadable,
  type SecretKeyring,
} from '@gpc/contracts/secrets';
import { openTotpSecret, sealTotpSecret } from '../auth/mfa';
import { listPracticeIds, lockPracticeSecrets, storePracticeSecrets } from '../db/practices';
import { lockTotpSecrets, storeTotpSecret } from '../db/staff-credentials';
import type { Queryable } from '../db/queryable';
import { withTransaction } from '../db/transaction';

/** What a rotation did, in counts and ids: never a value. */
export interface RotationReport {
  /** The key every credential is now under. */
  currentKid: string;
  practices: number;
  /** Credentials re-encrypted under the current key (plain text ones included). */
  reencrypted: number;
  /** Of those, credentials that were stored in plain text. */
  fromPlaintext: number;
  /** Credentials already under the current key. */
  alreadyCurrent: number;
  /** Practices with a credential that does not decrypt (left as it was): each needs its admin to enter it again. */
  unreadable: { practiceId: string; reason: string }[];
}

/**
 * Re-encrypts every practice's stored credentials (its own, and its staff's enrolled TOTP secrets)
 * under the keyring's current key, and encrypts any stored in plain text. Each practice in a transaction of its own, its row locked, so an admin's
 * change meanwhile is never overwritten. Idempotent: a second run finds them all current.
 */
export async function rotatePracticeSecrets(pool: pg.Pool, keyring: SecretKeyring): Promise<RotationReport> {
  const report: RotationReport = {
    currentKid: keyring.currentKid,
    practices: 0,
    reencrypted: 0,
    fromPlaintext: 0,
    alreadyCurrent: 0,
    unreadable: [],
  };
  for (const practiceId of await listPracticeIds(pool)) {
    report.practices++;
    try {
      await withTransaction(pool, async (client) => {
        const row = await lockPracticeSecrets(client, practiceId);
        if (!row) return; // removed meanwhile
        const fhir = resealPracticeSecrets(keyring, practiceId, 'fhir_auth', row.fhir_auth);
        const notifications = resealPracticeSecrets(
          keyring,
          practiceId,
          'notification_settings',
          row.notification_settings,
        );
        const changed = fhir.changed + notifications.changed;
        report.reencrypted += changed;
        report.fromPlaintext += fhir.fromPlaintext + notifications.fromPlaintext;
        report.alreadyCurrent += countSecrets(row) - changed;
        if (changed > 0) {
          await storePracticeSecrets(client, practiceId, {
            fhirAuth: fhir.value,
            notificationSettings: notifications.value,
          });
        }
        await resealTotpSecrets(client, keyring, practiceId, report);
      });
    } catch (error) {
      if (!(error instanceof SecretUnreadable)) throw error;
      report.unreadable.push({ practiceId, reason: error.message });
    }
  }
  return report;
}

/**
 * The practice's staff's TOTP secrets under the current key: without this, removing an old key
 * would leave their authenticator apps' codes refused until an admin reset their MFA. (Pending
 * enrolments are left: they last minutes, and one under a removed key is simply started again.)
 */
async function resealTotpSecrets(
  db: Queryable,
  keyring: SecretKeyring,
  practiceId: string,
  report: RotationReport,
): Promise<void> {
  for (const { staffId, totpSecret } of await lockTotpSecrets(db, practiceId)) {
    if (sealedKid(totpSecret) === keyring.currentKid) {
      report.alreadyCurrent++;
      continue;
    }
    const secret = openTotpSecret(keyring, practiceId, staffId, totpSecret);
    await storeTotpSecret(db, staffId, sealTotpSecret(keyring, practiceId, staffId, secret));
    report.reencrypted++;
    if (!isSealed(totpSecret)) report.fromPlaintext++;
  }
}

/** How many secret fields a practice's row holds. */
function countSecrets(row: { fhir_auth: unknown; notification_settings: unknown }): number {
  let count = 0;
  for (const [column, fields] of Object.entries(practiceSecretFields)) {
    const value = row[column as keyof typeof practiceSecretFields];
    if (value === null || typeof value !== 'object') continue;
    count += fields.filter((field) => typeof (value as Record<string, unknown>)[field] === 'string').length;
  }
  return count;
}

/** The report as lines for a person: counts and practice ids only. */
export function describeRotation(report: RotationReport): string {
  return [
    `practices: ${report.practices}`,
    `credentials re-encrypted under key "${report.currentKid}": ${report.reencrypted} (of which were plain text: ${report.fromPlaintext})`,
    `credentials already under key "${report.currentKid}": ${report.alreadyCurrent}`,
    `credentials that could not be read: ${report.unreadable.length}`,
    ...report.unreadable.map(({ practiceId, reason }) => `  practice ${practiceId}: ${reason}`),
    '',
  ].join('\n');
}
