/**
 * `secrets:rotate` where triage runs, with triage's configuration (TRIAGE_*): re-encrypts every
 * practice's stored credentials under TRIAGE_SECRETS_CURRENT_KID and encrypts any still in plain text.
 * Run it after adding a new key and making it current in triage and the record worker; once it
 * reports nothing left under the old key, the old key can be dropped from both.
 *
 *   node --import tsx triage/src/secrets/rotate-cli.ts
 *
 * Prints counts and practice ids, never a value. Exits 1 when a credential could not be read.
 */
import pg from 'pg';
import { loadConfigOrExit } from '@gpc/contracts';
import { secretKeyringFrom } from '@gpc/contracts/secrets';
import { loadTriageConfig } from '../config';
import { describeRotation, rotatePracticeSecrets } from './rotate';

const config = loadConfigOrExit('secrets:rotate', loadTriageConfig);
const keyring = secretKeyringFrom(config, 'TRIAGE');
if (!keyring) {
  process.stderr.write('secrets:rotate: TRIAGE_SECRETS_KEYS and TRIAGE_SECRETS_CURRENT_KID must be set\n');
  process.exit(1);
}
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
try {
  const report = await rotatePracticeSecrets(pool, keyring);
  process.stdout.write(describeRotation(report));
  process.exitCode = report.unreadable.length > 0 ? 1 : 0;
} finally {
  await pool.end();
}
