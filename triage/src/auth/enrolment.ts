import { AppError, type MfaEnrolment } from '@gpc/contracts';
import { recordAudit } from '../db/audit';
import { confirmTotpEnrolment, setPendingTotpSecret, type StaffCredentials } from '../db/staff-credentials';
import { withTransaction } from '../db/transaction';
import {
  enrolmentFor,
  newRecoveryCodes,
  newTotpSecret,
  openTotpSecret,
  sealTotpSecret,
  totpStepOf,
} from './mfa';
import type { SignInContext } from './sign-in';

/**
 * Enrolling a member of staff in TOTP MFA, from sign-in (when their practice requires it) or their
 * account page: a secret made here, shown once, kept pending until a first code from it confirms it;
 * then ten recovery codes, shown once. Starting again replaces a pending secret, never a confirmed one.
 */

export async function beginEnrolment(
  context: Pick<SignInContext, 'pool' | 'secrets'>,
  staff: StaffCredentials,
): Promise<MfaEnrolment> {
  if (staff.mfaEnabled) throw new AppError('conflict', 'MFA is set up already');
  const secret = newTotpSecret();
  await setPendingTotpSecret(
    context.pool,
    staff.id,
    sealTotpSecret(context.secrets, staff.practiceId, staff.id, secret),
  );
  return enrolmentFor(secret, `${staff.odsCode} ${staff.email ?? staff.name}`);
}

/** Confirms the pending secret with its first code: MFA on, audited; the recovery codes, to show once. */
export async function confirmEnrolment(
  context: Pick<SignInContext, 'pool' | 'secrets'>,
  staff: StaffCredentials,
  code: string,
): Promise<string[]> {
  if (staff.mfaEnabled) throw new AppError('conflict', 'MFA is set up already');
  const stored = staff.totpPendingSecret;
  if (!stored) throw new AppError('conflict', 'Start setting up MFA first');
  const step = totpStepOf(openTotpSecret(context.secrets, staff.practiceId, staff.id, stored), code);
  if (step === undefined)
    throw new AppError(
      'badRequest',
      'The code is not right: check the app shows GP Consult, and try the next code',
    );
  const { codes, hashes } = newRecoveryCodes();
  await withTransaction(context.pool, async (client) => {
    if (!(await confirmTotpEnrolment(client, staff.id, stored, step, hashes)))
      throw new AppError('conflict', 'MFA setup was started again elsewhere: start again');
    await recordAudit(client, {
      practiceId: staff.practiceId,
      actor: staff.id,
      action: 'mfa enrolled',
      entity: 'staff',
      entityId: staff.id,
    });
  });
  return codes;
}
