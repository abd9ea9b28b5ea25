import type { StaffRole } from '@gpc/contracts';
import type { Queryable } from './queryable';

/**
 * What a member of staff signs in with, beyond their email: password state, TOTP MFA and recovery
 * codes, the practice's MFA policy, the proofs between a sign-in's steps (`staff_sign_in_step`) and
 * the per-account sign-in throttle (`sign_in_throttle`).
 */

/** A member of staff's sign-in state, as the sign-in steps and their account page need it. */
export interface StaffCredentials {
  id: string;
  practiceId: string;
  odsCode: string;
  /** None for some who sign in with NHS CIS2. */
  email: string | null;
  name: string;
  role: StaffRole;
  passwordHash: string | null;
  passwordMustChange: boolean;
  /** The confirmed TOTP secret, as stored; null until enrolment is confirmed. */
  totpSecret: string | null;
  totpPendingSecret: string | null;
  mfaEnabled: boolean;
  /** The practice requires MFA of this member's role. */
  mfaRequired: boolean;
}

interface CredentialsRow {
  id: string;
  practice_id: string;
  ods_code: string;
  email: string | null;
  display_name: string;
  role: StaffRole;
  password_hash: string | null;
  password_must_change: boolean;
  totp_secret: string | null;
  totp_pending_secret: string | null;
  mfa_enabled: boolean;
  mfa_required: boolean;
}

const credentialsQuery = `SELECT s.id, s.practice_id, p.ods_code, s.email, s.display_name, s.role, s.password_hash,
    s.password_must_change, s.totp_secret, s.totp_pending_secret, s.mfa_enabled_at IS NOT NULL AS mfa_enabled,
    s.role = ANY(p.mfa_required_roles) AS mfa_required
  FROM staff s JOIN practice p ON p.id = s.practice_id`;

const toCredentials = (row: CredentialsRow): StaffCredentials => ({
  id: row.id,
  practiceId: row.practice_id,
  odsCode: row.ods_code,
  email: row.email,
  name: row.display_name,
  role: row.role,
  passwordHash: row.password_hash,
  passwordMustChange: row.password_must_change,
  totpSecret: row.totp_secret,
  totpPendingSecret: row.totp_pending_secret,
  mfaEnabled: row.mfa_enabled,
  mfaRequired: row.mfa_required,
});

/** The active member of staff signing in with this practice code and email. */
export async function findCredentialsForSignIn(
  db: Queryable,
  odsCode: string,
  email: string,
): Promise<StaffCredentials | undefined> {
  const { rows } = await db.query<CredentialsRow>(
    `${credentialsQuery} WHERE p.ods_code = $1 AND s.email = $2 AND s.active`,
    [odsCode, email],
  );
  return rows[0] && toCredentials(rows[0]);
}

/** The active member of staff with this id. */
export async function findCredentials(db: Queryable, staffId: string): Promise<StaffCredentials | undefined> {
  const { rows } = await db.query<CredentialsRow>(`${credentialsQuery} WHERE s.id = $1 AND s.active`, [
    staffId,
  ]);
  return rows[0] && toCredentials(rows[0]);
}

/** Sets a member of staff's password; `mustChange` when it is a temporary one an admin gave. */
export async function setPassword(
  db: Queryable,
  staffId: string,
  passwordHash: string,
  mustChange: boolean,
): Promise<void> {
  await db.query(
    `UPDATE staff SET password_hash = $2, password_must_change = $3, password_changed_at = now() WHERE id = $1`,
    [staffId, passwordHash, mustChange],
  );
}

/**
 * An admin's reset: a temporary password to change at next sign-in. `no-password` for a member of
 * staff who signs in with NHS CIS2 (no password here to reset); `not-found` when no such member is
 * at the practice.
 */
export async function resetPassword(
  db: Queryable,
  practiceId: string,
  staffId: string,
  passwordHash: string,
): Promise<'reset' | 'no-password' | 'not-found'> {
  const { rowCount } = await db.query(
    `UPDATE staff SET password_hash = $3, password_must_change = true, password_changed_at = now()
      WHERE id = $1 AND practice_id = $2 AND password_hash IS NOT NULL`,
    [staffId, practiceId, passwordHash],
  );
  if (rowCount) return 'reset';
  const exists = await db.query('SELECT 1 FROM staff WHERE id = $1 AND practice_id = $2', [
    staffId,
    practiceId,
  ]);
  return exists.rowCount ? 'no-password' : 'not-found';
}

/** An admin's reset: MFA off, recovery codes gone. */
export async function resetMfa(
  db: Queryable,
  practiceId: string,
  staffId: string,
): Promise<'reset' | 'not-found'> {
  const { rowCount } = await db.query(
    `UPDATE staff SET totp_secret = NULL, totp_pending_secret = NULL, mfa_enabled_at = NULL, totp_last_step = NULL
      WHERE id = $1 AND practice_id = $2`,
    [staffId, practiceId],
  );
  if (!rowCount) return 'not-found';
  await db.query('DELETE FROM staff_recovery_code WHERE staff_id = $1', [staffId]);
  return 'reset';
}

/** Keeps a secret being enrolled until its first code confirms it. */
export async function setPendingTotpSecret(db: Queryable, staffId: string, secret: string): Promise<void> {
  await db.query('UPDATE staff SET totp_pending_secret = $2 WHERE id = $1', [staffId, secret]);
}

/**
 * Switches MFA on with the pending secret, which the code of `step` confirmed, and replaces the
 * recovery codes. False when the pending secret changed meanwhile (another enrolment began).
 */
export async function confirmTotpEnrolment(
  db: Queryable,
  staffId: string,
  pendingSecret: string,
  step: number,
  recoveryCodeHashes: string[],
): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE staff SET totp_secret = totp_pending_secret, totp_pending_secret = NULL, mfa_enabled_at = now(),
       totp_last_step = $3
      WHERE id = $1 AND totp_pending_secret = $2`,
    [staffId, pendingSecret, step],
  );
  if (!rowCount) return false;
  await replaceRecoveryCodes(db, staffId, recoveryCodeHashes);
  return true;
}

/**
 * Accepts a TOTP code's 30-second step, once: false when a code of this step or a later one was
 * accepted already (a replayed code, within its window or not).
 */
export async function acceptTotpStep(db: Queryable, staffId: string, step: number): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE staff SET totp_last_step = $2 WHERE id = $1 AND (totp_last_step IS NULL OR totp_last_step < $2)`,
    [staffId, step],
  );
  return (rowCount ?? 0) > 0;
}

export async function replaceRecoveryCodes(
  db: Queryable,
  staffId: string,
  codeHashes: string[],
): Promise<void> {
  await db.query('DELETE FROM staff_recovery_code WHERE staff_id = $1', [staffId]);
  await db.query('INSERT INTO staff_recovery_code (staff_id, code_hash) SELECT $1, unnest($2::text[])', [
    staffId,
    codeHashes,
  ]);
}

/** Spends a recovery code: true the first time, false ever after (or for a code that is not theirs). */
export async function useRecoveryCode(db: Queryable, staffId: string, codeHash: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE staff_recovery_code SET used_at = now() WHERE staff_id = $1 AND code_hash = $2 AND used_at IS NULL`,
    [staffId, codeHash],
  );
  return (rowCount ?? 0) > 0;
}

export async function countRecoveryCodesLeft(db: Queryable, staffId: string): Promise<number> {
  const { rows } = await db.query<{ left: number }>(
    'SELECT count(*)::int AS left FROM staff_recovery_code WHERE staff_id = $1 AND used_at IS NULL',
    [staffId],
  );
  return rows[0]?.left ?? 0;
}

/** The roles the practice requires MFA of. */
export async function findMfaPolicy(db: Queryable, practiceId: string): Promise<StaffRole[]> {
  const { rows } = await db.query<{ mfa_required_roles: StaffRole[] }>(
    'SELECT mfa_required_roles FROM practice WHERE id = $1',
    [practiceId],
  );
  return rows[0]?.mfa_required_roles ?? [];
}

export async function updateMfaPolicy(db: Queryable, practiceId: string, roles: StaffRole[]): Promise<void> {
  await db.query('UPDATE practice SET mfa_required_roles = $2 WHERE id = $1', [practiceId, roles]);
}

export type SignInStepName = 'totp' | 'change-password' | 'enrol-mfa';

/** A proof between a sign-in's steps. */
export interface PendingSignIn {
  staffId: string;
  step: SignInStepName;
  accountKey: string;
  attempts: number;
}

export async function insertSignInStep(
  db: Queryable,
  proof: { tokenHash: string; staffId: string; step: SignInStepName; accountKey: string; seconds: number },
): Promise<void> {
  // expired proofs go as new ones come: the table holds only sign-ins under way
  await db.query('DELETE FROM staff_sign_in_step WHERE expires_at < now()');
  await db.query(
    `INSERT INTO staff_sign_in_step (token_hash, staff_id, step, account_key, expires_at)
     VALUES ($1, $2, $3, $4, now() + make_interval(secs => $5))`,
    [proof.tokenHash, proof.staffId, proof.step, proof.accountKey, proof.seconds],
  );
}

/** The live proof with this hash, for this step only; undefined when unknown, expired or for another step. */
export async function findSignInStep(
  db: Queryable,
  tokenHash: string,
  step: SignInStepName,
): Promise<PendingSignIn | undefined> {
  const { rows } = await db.query<{
    staff_id: string;
    step: SignInStepName;
    account_key: string;
    attempts: number;
  }>(
    `SELECT staff_id, step, account_key, attempts FROM staff_sign_in_step
      WHERE token_hash = $1 AND step = $2 AND expires_at > now()`,
    [tokenHash, step],
  );
  const row = rows[0];
  return (
    row && { staffId: row.staff_id, step: row.step, accountKey: row.account_key, attempts: row.attempts }
  );
}

/** Uses the proof up: true for the one caller that got it (a proof works once). */
export async function spendSignInStep(db: Queryable, tokenHash: string): Promise<boolean> {
  const { rowCount } = await db.query('DELETE FROM staff_sign_in_step WHERE token_hash = $1', [tokenHash]);
  return (rowCount ?? 0) > 0;
}

/** Counts a wrong code against the proof; after `max` it is gone and the sign-in starts again. */
export async function failSignInStep(db: Queryable, tokenHash: string, max: number): Promise<void> {
  await db.query('UPDATE staff_sign_in_step SET attempts = attempts + 1 WHERE token_hash = $1', [tokenHash]);
  await db.query('DELETE FROM staff_sign_in_step WHERE token_hash = $1 AND attempts >= $2', [tokenHash, max]);
}

/** How sign-in attempts per account are slowed: `freeAttempts`, then 2^n seconds each, at most `capSeconds`. */
export interface SignInBackoff {
  freeAttempts: number;
  capSeconds: number;
}

/**
 * Counts an attempt to sign in to the account, before its password or code is checked (so attempts
 * sent at once are counted at once). Allowed, or the seconds until the account's back-off ends; an
 * attempt refused by the back-off is not counted. Attempts an hour after the last start again at one.
 */
export async function beginSignInAttempt(
  db: Queryable,
  accountKey: string,
  backoff: SignInBackoff,
): Promise<{ allowed: true } | { allowed: false; retryAfterSeconds: number }> {
  const { rows } = await db.query(
    `INSERT INTO sign_in_throttle AS t (account_key, failures, updated_at) VALUES ($1, 1, now())
     ON CONFLICT (account_key) DO UPDATE SET
       failures = CASE WHEN t.updated_at < now() - interval '1 hour' THEN 1 ELSE t.failures + 1 END,
       blocked_until = CASE
         WHEN t.updated_at < now() - interval '1 hour' OR t.failures + 1 <= $2 THEN NULL
         ELSE now() + make_interval(secs => least(power(2, t.failures + 1 - $2), $3)) END,
       updated_at = now()
     WHERE t.blocked_until IS NULL OR t.blocked_until <= now()
     RETURNING failures`,
    [accountKey, backoff.freeAttempts, backoff.capSeconds],
  );
  if (rows.length > 0) return { allowed: true };
  const blocked = await db.query<{ seconds: number }>(
    `SELECT ceil(extract(epoch FROM blocked_until - now()))::int AS seconds FROM sign_in_throttle WHERE account_key = $1`,
    [accountKey],
  );
  return { allowed: false, retryAfterSeconds: Math.max(1, blocked.rows[0]?.seconds ?? 1) };
}

/** A sign-in finished: the account's count starts again (and day-old counts of any account go). */
export async function clearSignInAttempts(db: Queryable, accountKey: string): Promise<void> {
  await db.query(
    `DELETE FROM sign_in_throttle WHERE account_key = $1 OR updated_at < now() - interval '1 day'`,
    [accountKey],
  );
}

/** The practice's members' enrolled TOTP secrets as stored, their rows locked: for re-encryption. */
export async function lockTotpSecrets(
  db: Queryable,
  practiceId: string,
): Promise<{ staffId: string; totpSecret: string }[]> {
  const { rows } = await db.query<{ id: string; totp_secret: string }>(
    'SELECT id, totp_secret FROM staff WHERE practice_id = $1 AND totp_secret IS NOT NULL FOR UPDATE',
    [practiceId],
  );
  return rows.map((row) => ({ staffId: row.id, totpSecret: row.totp_secret }));
}

/** Stores a member's TOTP secret re-encrypted (the same secret under another key). */
export async function storeTotpSecret(db: Queryable, staffId: string, totpSecret: string): Promise<void> {
  await db.query('UPDATE staff SET totp_secret = $2 WHERE id = $1', [staffId, totpSecret]);
}
