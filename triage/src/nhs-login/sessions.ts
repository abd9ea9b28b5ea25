import { createHash, randomBytes } from 'node:crypto';
import type pg from 'pg';
import { AppError } from '@gpc/contracts';
import {
  findNhsLoginSession,
  insertNhsLoginSession,
  lockNhsLoginSession,
  markNhsLoginSessionUsed,
  type NhsLoginIdentity,
  type NhsLoginSession,
} from '../db/nhs-login';
import type { NewSubmission, SubmissionWritten } from '../db/submissions';
import { withTransaction } from '../db/transaction';
import type { Queryable } from '../db/queryable';

/**
 * An NHS login session: what NHS login said about the patient, for one request to one practice,
 * for 30 minutes. The browser holds a random token; the database only its hash.
 */

export const sessionMinutes = 30;

export const hashToken = (token: string): Buffer => createHash('sha256').update(token).digest();
export const newToken = (): string => randomBytes(32).toString('base64url');

/** Keeps the identity and returns the token the form will hold. */
export async function startNhsLoginSession(
  db: Queryable,
  session: { practiceId: string; identity: NhsLoginIdentity; now: Date },
): Promise<{ token: string; expiresAt: Date }> {
  const token = newToken();
  const expiresAt = new Date(session.now.getTime() + sessionMinutes * 60_000);
  await insertNhsLoginSession(db, {
    tokenHash: hashToken(token),
    practiceId: session.practiceId,
    identity: session.identity,
    createdAt: session.now,
    expiresAt,
  });
  return { token, expiresAt };
}

const signInAgain = 'Sign in with NHS login again, or continue without it.';

/** Why a session cannot be used now, in words for the patient; undefined when it can. */
function refusal(
  session: NhsLoginSession | undefined,
  practiceId: string | undefined,
  now: Date,
): AppError | undefined {
  if (!session)
    return new AppError('unauthorized', `Your NHS login sign-in was not recognised. ${signInAgain}`);
  if (session.usedAt)
    return new AppError(
      'conflict',
      `Your NHS login sign-in has already been used for a request. ${signInAgain}`,
    );
  if (session.expiresAt <= now)
    return new AppError('unauthorized', `Your NHS login sign-in has run out. ${signInAgain}`);
  if (practiceId !== undefined && session.practiceId !== practiceId)
    return new AppError('forbidden', `Your NHS login sign-in was for another GP surgery. ${signInAgain}`);
  return undefined;
}

/** The session behind a token, for the form to show; refused when unknown, used or expired. */
export async function readNhsLoginSession(db: Queryable, token: string, now: Date): Promise<NhsLoginSession> {
  const session = await findNhsLoginSession(db, hashToken(token));
  const refused = refusal(session, undefined, now);
  if (refused) throw refused;
  return session!;
}

/**
 * A request sent with an NHS login session: in one transaction, the session is locked and checked
 * (this practice's, unused, not expired), the request is taken in with NHS login's identity, and
 * the session is marked used by it. If intake fails or refuses (the day is full), nothing is marked:
 * the patient can send again. A retry of the same request (same idempotency key) racing the first
 * finds the session used by that request and is answered as the repeat it is.
 */
export async function intakeWithNhsLogin(
  pool: pg.Pool,
  claim: { token: string; practiceId: string; idempotencyKey: string; now: Date },
  intake: (db: Queryable, identity: NhsLoginIdentity) => Promise<SubmissionWritten>,
): Promise<SubmissionWritten> {
  const tokenHash = hashToken(claim.token);
  return withTransaction(pool, async (client) => {
    const session = await lockNhsLoginSession(client, tokenHash);
    if (session?.usedAt && session.usedForKey === claim.idempotencyKey)
      return { counted: true, created: undefined };
    const refused = refusal(session, claim.practiceId, claim.now);
    if (refused) throw refused;
    const written = await intake(client, session!.identity);
    if (written.created)
      await markNhsLoginSessionUsed(client, tokenHash, { at: claim.now, consultationId: written.created.id });
    return written;
  });
}

/**
 * The request as NHS login says: name, date of birth and NHS number from NHS login (what was typed
 * is ignored). P9 arrives confirmed for that NHS number (no match step); P5 is traced against PDS
 * and confirmed by staff like a typed request. Only the patient themself signs in: a request for
 * someone else is not sent with their NHS login.
 */
export function withNhsLoginIdentity(submission: NewSubmission, identity: NhsLoginIdentity): NewSubmission {
  if (submission.submittedBy.type !== 'patient')
    throw new AppError(
      'badRequest',
      'A request for someone else cannot be sent with your NHS login: continue without NHS login.',
    );
  return {
    ...submission,
    patient: {
      givenName: identity.givenName,
      familyName: identity.familyName,
      birthDate: identity.birthDate,
      nhsNumber: identity.nhsNumber,
    },
    identity:
      identity.proofingLevel === 'P9'
        ? {
            source: 'nhs_login',
            proofingLevel: 'P9',
            status: 'nhs_login_p9',
            confirmedNhsNumber: identity.nhsNumber,
          }
        : { source: 'nhs_login', proofingLevel: 'P5', status: 'tracing', confirmedNhsNumber: null },
  };
}
