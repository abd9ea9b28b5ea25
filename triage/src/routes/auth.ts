import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type pg from 'pg';
import {
  AppError,
  EnrolledSession,
  MfaEnrolment,
  PendingTokenBody,
  refusals,
  RefreshTokenBody,
  SignInBody,
  SignInCodeBody,
  SignInMfaConfirmBody,
  SignInNewPasswordBody,
  SignInResult,
  StaffSession,
} from '@gpc/contracts';
import type { SecretKeyring } from '@gpc/contracts/secrets';
import { announceRevoked } from '../auth/announce-revoked';
import { beginEnrolment, confirmEnrolment } from '../auth/enrolment';
import { hashPassword } from '../auth/passwords';
import { hashRefreshToken, openStaffSession } from '../auth/sessions';
import {
  nextStep,
  openSignedInSession,
  SignInBackedOff,
  signInWithCode,
  signInWithPassword,
  spendStep,
  takeStep,
  throttle,
  type SignInContext,
} from '../auth/sign-in';
import { recordAudit } from '../db/audit';
import { redeemRefreshToken, revokeRefreshToken } from '../db/staff';
import { setPassword, type SignInBackoff } from '../db/staff-credentials';

export interface AuthRoutesDeps {
  pool: pg.Pool;
  /** Per account: attempts before the back-off, and its longest wait. */
  backoff?: SignInBackoff;
  /** Encrypts TOTP secrets at rest, when the service has a secrets key. */
  secrets?: SecretKeyring;
}

/** After 5 attempts at an account, each further one waits 2, 4, 8 … seconds, at most 5 minutes. */
export const defaultSignInBackoff: SignInBackoff = { freeAttempts: 5, capSeconds: 300 };

/** Per client address (behind the trusted proxies: the client's own), for each sign-in step. */
const perAddress = { rateLimit: { max: 10, timeWindow: '1 minute' } };

/**
 * Staff sign in, under `/auth`: practice, email and password, then the steps their account needs
 * (a code, a new password after a reset, MFA enrolment when their practice requires it), then a
 * session; a refresh token renews the short access token, within its family. No staff guard: these
 * are how staff get a token.
 */
export const authRoutes: FastifyPluginCallbackTypebox<AuthRoutesDeps> = (app, deps, done) => {
  const context: SignInContext = {
    app,
    pool: deps.pool,
    backoff: deps.backoff ?? defaultSignInBackoff,
    secrets: deps.secrets,
  };
  const steps = { 200: SignInResult, ...refusals(400, 401, 429) };

  app.post(
    '/login',
    {
      schema: { summary: 'Staff sign-in: the password', body: SignInBody, response: steps },
      config: perAddress,
    },
    async (request, reply) => withRetryAfter(reply, () => signInWithPassword(context, request.body)),
  );

  app.post(
    '/mfa',
    {
      schema: {
        summary: 'Sign-in: a code from the app, or a recovery code',
        body: SignInCodeBody,
        response: steps,
      },
      config: perAddress,
    },
    async (request, reply) => withRetryAfter(reply, () => signInWithCode(context, request.body)),
  );

  app.post(
    '/password',
    {
      schema: {
        summary: 'Sign-in: a new password after a reset',
        body: SignInNewPasswordBody,
        response: steps,
      },
      config: perAddress,
    },
    async (request) => chooseNewPassword(context, request.body),
  );

  app.post(
    '/mfa/enrolment',
    {
      schema: {
        summary: 'Sign-in: set up MFA (the secret, shown once)',
        body: PendingTokenBody,
        response: { 200: MfaEnrolment, ...refusals(400, 401, 409) },
      },
      config: perAddress,
    },
    async (request) =>
      beginEnrolment(context, (await takeStep(context, request.body.pendingToken, 'enrol-mfa')).staff),
  );

  app.post(
    '/mfa/enrolment/confirm',
    {
      schema: {
        summary: 'Sign-in: confirm MFA with a first code; the recovery codes (shown once) and the session',
        body: SignInMfaConfirmBody,
        response: { 200: EnrolledSession, ...refusals(400, 401, 409, 429) },
      },
      config: perAddress,
    },
    async (request, reply) => withRetryAfter(reply, () => enrolAndSignIn(context, request.body)),
  );

  app.post(
    '/refresh',
    {
      schema: {
        summary: 'Renew an access token',
        body: RefreshTokenBody,
        response: { 200: StaffSession, ...refusals(400, 401) },
      },
    },
    async (request) => refresh(context, request.body.refreshToken),
  );

  app.post(
    '/logout',
    {
      schema: {
        summary: 'End a session',
        body: RefreshTokenBody,
        response: { 204: Type.Null(), ...refusals(400) },
      },
    },
    async (request, reply) => {
      await revokeRefreshToken(deps.pool, hashRefreshToken(request.body.refreshToken));
      return reply.code(204).send(null);
    },
  );
  done();
};

/** A back-off refusal carries how long to wait. */
async function withRetryAfter<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof SignInBackedOff) void reply.header('retry-after', String(error.retryAfterSeconds));
    throw error;
  }
}

/**
 * Each refresh token works once; the new one joins its family. A spent one presented again means
 * two holders (one a thief): the whole family is revoked, audited, and both must sign in again.
 */
async function refresh(context: SignInContext, refreshToken: string): Promise<StaffSession> {
  const outcome = await redeemRefreshToken(context.pool, hashRefreshToken(refreshToken));
  if (outcome.kind === 'renewed')
    return openStaffSession(context.app, context.pool, outcome.staff, outcome.family);
  if (outcome.kind === 'reused') {
    await recordAudit(context.pool, {
      practiceId: outcome.practiceId,
      actor: outcome.staffId,
      action: `refresh token reused: session family ${outcome.family} revoked`,
      entity: 'staff',
      entityId: outcome.staffId,
    });
    context.app.log.warn(
      { staffId: outcome.staffId, family: outcome.family },
      'refresh token reused: family revoked',
    );
    // a thief may hold a live access token from the family too: their dashboards and calls close now
    await announceRevoked(context.app, outcome.staffId);
  }
  throw new AppError('unauthorized', 'Sign in again');
}

async function chooseNewPassword(context: SignInContext, body: SignInNewPasswordBody): Promise<SignInResult> {
  const { pending, staff, proofHash } = await takeStep(context, body.pendingToken, 'change-password');
  await spendStep(context, proofHash);
  await setPassword(context.pool, staff.id, await hashPassword(body.newPassword), false);
  await recordAudit(context.pool, {
    practiceId: staff.practiceId,
    actor: staff.id,
    action: 'password changed after reset',
    entity: 'staff',
    entityId: staff.id,
  });
  // the code (if they have MFA) came before this step
  return nextStep(context, { ...staff, passwordMustChange: false }, pending.accountKey, {
    codeChecked: staff.mfaEnabled,
  });
}

async function enrolAndSignIn(context: SignInContext, body: SignInMfaConfirmBody): Promise<EnrolledSession> {
  const { pending, staff, proofHash } = await takeStep(context, body.pendingToken, 'enrol-mfa');
  await throttle(context, pending.accountKey);
  const recoveryCodes = await confirmEnrolment(context, staff, body.code);
  await spendStep(context, proofHash);
  const session = await openSignedInSession(context, staff, pending.accountKey, 'login with mfa');
  return { recoveryCodes, session };
}
