import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import { AppError, type SignInResult, type SignInStep, type StaffSession } from '@gpc/contracts';
import type { SecretKeyring } from '@gpc/contracts/secrets';
import { recordAudit } from '../db/audit';
import {
  acceptTotpStep,
  beginSignInAttempt,
  clearSignInAttempts,
  failSignInStep,
  findCredentials,
  findCredentialsForSignIn,
  findSignInStep,
  insertSignInStep,
  spendSignInStep,
  useRecoveryCode,
  type PendingSignIn,
  type SignInBackoff,
  type SignInStepName,
  type StaffCredentials,
} from '../db/staff-credentials';
import type { Queryable } from '../db/queryable';
import { hashRecoveryCode, openTotpSecret, totpStepOf } from './mfa';
import { decoyHash, verifyPassword } from './passwords';
import { openStaffSession } from './sessions';

/**
 * Staff sign-in as steps: the password, then (when the member of staff has MFA) a code, then (after
 * an admin's reset) a new password, then (when the practice requires MFA of their role and it is not
 * set up) enrolment; then the session. Between steps the client holds a proof: an opaque random
 * token, stored hashed, good for the next step only, for minutes, and spent when used. Every attempt
 * counts against the account's back-off (practice code and email), cleared only when a session opens.
 */

export interface SignInContext {
  app: FastifyInstance;
  pool: pg.Pool;
  backoff: SignInBackoff;
  secrets: SecretKeyring | undefined;
}

/** How long a proof lasts; enrolment gives time to find the phone and scan. */
const stepSeconds: Record<SignInStepName, number> = { totp: 300, 'change-password': 600, 'enrol-mfa': 600 };
/** Wrong codes a proof takes before it is gone and the sign-in starts again (each counted by the back-off too). */
export const maxStepAttempts = 5;

const hashProof = (token: string): string => createHash('sha256').update(token).digest('base64url');
export const accountKeyOf = (odsCode: string, email: string): string =>
  `${odsCode.toUpperCase()}:${email.trim().toLowerCase()}`;

/** Counts the attempt; refused with 429 and the wait when the account is in back-off. */
export async function throttle(context: SignInContext, accountKey: string): Promise<void> {
  const attempt = await beginSignInAttempt(context.pool, accountKey, context.backoff);
  if (!attempt.allowed) throw new SignInBackedOff(attempt.retryAfterSeconds);
}

/** A sign-in refused for now: too many attempts at the account. The route answers 429 with Retry-After. */
export class SignInBackedOff extends AppError {
  constructor(readonly retryAfterSeconds: number) {
    super(
      'tooManyRequests',
      `Too many attempts to sign in to this account: try again in ${retryAfterSeconds} seconds`,
    );
  }
}

/** Step one: the practice, email and password. The same refusal, in the same time, whatever was wrong. */
export async function signInWithPassword(
  context: SignInContext,
  body: { odsCode: string; email: string; password: string },
): Promise<SignInResult> {
  const accountKey = accountKeyOf(body.odsCode, body.email);
  await throttle(context, accountKey);
  const staff = await findCredentialsForSignIn(
    context.pool,
    body.odsCode.toUpperCase(),
    body.email.trim().toLowerCase(),
  );
  // an unknown email (or staff who sign in only through CIS2) costs the same time as a wrong password
  const valid = await verifyPassword(body.password, staff?.passwordHash ?? decoyHash);
  if (!staff || !staff.passwordHash || !valid)
    throw new AppError('unauthorized', 'The practice, email or password is not right');
  return nextStep(context, staff, accountKey, { codeChecked: false });
}

/**
 * What follows a passed step: another step's proof, or the session (audited, the back-off cleared).
 * `codeChecked`: a code from the app or a recovery code has been checked in this sign-in.
 */
export async function nextStep(
  context: SignInContext,
  staff: StaffCredentials,
  accountKey: string,
  { codeChecked }: { codeChecked: boolean },
): Promise<SignInResult> {
  if (staff.mfaEnabled && !codeChecked) return issueStep(context.pool, staff, 'totp', accountKey);
  if (staff.passwordMustChange) return issueStep(context.pool, staff, 'change-password', accountKey);
  if (staff.mfaRequired && !staff.mfaEnabled) return issueStep(context.pool, staff, 'enrol-mfa', accountKey);
  return openSignedInSession(context, staff, accountKey, codeChecked ? 'login with mfa' : 'login');
}

export async function openSignedInSession(
  context: SignInContext,
  staff: StaffCredentials,
  accountKey: string,
  action: string,
): Promise<StaffSession> {
  await clearSignInAttempts(context.pool, accountKey);
  await recordAudit(context.pool, {
    practiceId: staff.practiceId,
    actor: staff.id,
    action,
    entity: 'staff',
    entityId: staff.id,
  });
  return openStaffSession(context.app, context.pool, staff);
}

async function issueStep(
  db: Queryable,
  staff: StaffCredentials,
  step: SignInStepName,
  accountKey: string,
): Promise<SignInStep> {
  const pendingToken = randomBytes(32).toString('base64url');
  const seconds = stepSeconds[step];
  await insertSignInStep(db, {
    tokenHash: hashProof(pendingToken),
    staffId: staff.id,
    step,
    accountKey,
    seconds,
  });
  return { step, pendingToken, expiresIn: seconds };
}

/** A proof for `step` and its still-active member of staff; refused as a 401 otherwise. */
export async function takeStep(
  context: SignInContext,
  pendingToken: string,
  step: SignInStepName,
): Promise<{ pending: PendingSignIn; staff: StaffCredentials; proofHash: string }> {
  const proofHash = hashProof(pendingToken);
  const pending = await findSignInStep(context.pool, proofHash, step);
  const staff = pending && (await findCredentials(context.pool, pending.staffId));
  if (!pending || !staff) throw new AppError('unauthorized', 'This sign-in has expired: sign in again');
  return { pending, staff, proofHash };
}

/** Spends the proof; a second use of it (a race, a replay) is refused. */
export async function spendStep(context: SignInContext, proofHash: string): Promise<void> {
  if (!(await spendSignInStep(context.pool, proofHash)))
    throw new AppError('unauthorized', 'This sign-in has expired: sign in again');
}

/** Step two: a code from the authenticator app, or a recovery code; each works once. */
export async function signInWithCode(
  context: SignInContext,
  body: { pendingToken: string; code: string },
): Promise<SignInResult> {
  const { pending, staff, proofHash } = await takeStep(context, body.pendingToken, 'totp');
  await throttle(context, pending.accountKey);
  const how = await checkCode(context, staff, body.code);
  if (!how) {
    await failSignInStep(context.pool, proofHash, maxStepAttempts);
    throw new AppError('unauthorized', 'The code is not right, or has been used already');
  }
  await spendStep(context, proofHash);
  if (how === 'recovery code') {
    await recordAudit(context.pool, {
      practiceId: staff.practiceId,
      actor: staff.id,
      action: 'mfa recovery code used',
      entity: 'staff',
      entityId: staff.id,
    });
  }
  return nextStep(context, staff, pending.accountKey, { codeChecked: true });
}

/**
 * Checks a code against the member's MFA: six digits against their TOTP secret (a step accepted
 * once only), anything else as a recovery code (spent as it is accepted). What matched, or undefined.
 */
export async function checkCode(
  context: SignInContext,
  staff: StaffCredentials,
  code: string,
): Promise<'totp' | 'recovery code' | undefined> {
  if (!staff.totpSecret) return undefined;
  const digits = code.replace(/\s/g, '');
  if (/^[0-9]{6}$/.test(digits)) {
    const secret = openTotpSecret(context.secrets, staff.practiceId, staff.id, staff.totpSecret);
    const step = totpStepOf(secret, digits);
    return step !== undefined && (await acceptTotpStep(context.pool, staff.id, step)) ? 'totp' : undefined;
  }
  return (await useRecoveryCode(context.pool, staff.id, hashRecoveryCode(code)))
    ? 'recovery code'
    : undefined;
}
