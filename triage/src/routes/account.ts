import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import {
  AccountView,
  AppError,
  MfaConfirmBody,
  MfaEnrolment,
  PasswordChangeBody,
  RecoveryCodes,
  refusals,
  StaffSession,
  type StaffTokenClaims,
} from '@gpc/contracts';
import type { SecretKeyring } from '@gpc/contracts/secrets';
import { announceRevoked } from '../auth/announce-revoked';
import { beginEnrolment, confirmEnrolment } from '../auth/enrolment';
import { newRecoveryCodes } from '../auth/mfa';
import { hashPassword, verifyPassword } from '../auth/passwords';
import { openStaffSession } from '../auth/sessions';
import { checkCode, throttle, accountKeyOf, type SignInContext } from '../auth/sign-in';
import { requireStaff } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import { revokeStaffSessions } from '../db/staff';
import {
  clearSignInAttempts,
  countRecoveryCodesLeft,
  findCredentials,
  replaceRecoveryCodes,
  setPassword,
  type StaffCredentials,
} from '../db/staff-credentials';
import { withTransaction } from '../db/transaction';

export interface AccountRoutesDeps {
  pool: pg.Pool;
  backoff: SignInContext['backoff'];
  secrets?: SecretKeyring;
}

/** Guessing the current password from a stolen access token is slow too. */
const slow = { rateLimit: { max: 5, timeWindow: '1 minute' } };

/**
 * `/account`: the signed-in member of staff's own sign-in: their password (the current one
 * required; every other session ends) and their MFA (set up, new recovery codes). Any role.
 */
export const accountRoutes: FastifyPluginCallbackTypebox<AccountRoutesDeps> = (app, deps, done) => {
  app.addHook('preHandler', requireStaff);
  const context: SignInContext = { app, pool: deps.pool, backoff: deps.backoff, secrets: deps.secrets };
  const me = async (claims: StaffTokenClaims): Promise<StaffCredentials> => {
    const staff = await findCredentials(deps.pool, claims.sub);
    if (!staff) throw new AppError('unauthorized', 'Sign in again');
    return staff;
  };

  app.get(
    '/',
    { schema: { summary: 'Your own sign-in settings', response: { 200: AccountView, ...refusals(401) } } },
    async (request) => {
      const staff = await me(request.staff);
      return {
        email: staff.email,
        mfaEnabled: staff.mfaEnabled,
        mfaRequired: staff.mfaRequired,
        recoveryCodesLeft: await countRecoveryCodesLeft(deps.pool, staff.id),
      };
    },
  );

  app.post(
    '/password',
    {
      schema: {
        summary: 'Change your password (the current one required); your other sessions end',
        body: PasswordChangeBody,
        response: { 200: StaffSession, ...refusals(400, 401, 409, 429) },
      },
      config: slow,
    },
    async (request) => changePassword(context, await me(request.staff), request.body),
  );

  app.post(
    '/mfa/enrolment',
    {
      schema: {
        summary: 'Start setting up MFA: the secret, shown once',
        response: { 200: MfaEnrolment, ...refusals(401, 409) },
      },
    },
    async (request) => beginEnrolment(context, await me(request.staff)),
  );

  app.post(
    '/mfa/confirm',
    {
      schema: {
        summary: 'Confirm MFA with a first code: the recovery codes, shown once',
        body: MfaConfirmBody,
        response: { 200: RecoveryCodes, ...refusals(400, 401, 409, 429) },
      },
      config: slow,
    },
    async (request) => ({
      recoveryCodes: await confirmEnrolment(context, await me(request.staff), request.body.code),
    }),
  );

  app.post(
    '/mfa/recovery-codes',
    {
      schema: {
        summary: 'New recovery codes (a code from the app required); the old ones stop working',
        body: MfaConfirmBody,
        response: { 200: RecoveryCodes, ...refusals(400, 401, 409, 429) },
      },
      config: slow,
    },
    async (request) => ({
      recoveryCodes: await renewRecoveryCodes(context, await me(request.staff), request.body.code),
    }),
  );
  done();
};

/** The current password proves it is them; the new session replaces every other (a thief's included). */
async function changePassword(
  context: SignInContext,
  staff: StaffCredentials,
  body: PasswordChangeBody,
): Promise<StaffSession> {
  if (!staff.passwordHash || !staff.email)
    throw new AppError('conflict', 'You sign in with NHS CIS2: there is no password here to change');
  const accountKey = accountKeyOf(staff.odsCode, staff.email);
  await throttle(context, accountKey);
  if (!(await verifyPassword(body.currentPassword, staff.passwordHash)))
    // the session is fine, the form is not: not a 401, which pages take as "signed out"
    throw new AppError('badRequest', 'The current password is not right');
  const passwordHash = await hashPassword(body.newPassword);
  await withTransaction(context.pool, async (client) => {
    await setPassword(client, staff.id, passwordHash, false);
    await revokeStaffSessions(client, staff.id);
    await recordAudit(client, {
      practiceId: staff.practiceId,
      actor: staff.id,
      action: 'password changed: other sessions ended',
      entity: 'staff',
      entityId: staff.id,
    });
  });
  await clearSignInAttempts(context.pool, accountKey);
  await announceRevoked(context.app, staff.id);
  return openStaffSession(context.app, context.pool, staff);
}

async function renewRecoveryCodes(
  context: SignInContext,
  staff: StaffCredentials,
  code: string,
): Promise<string[]> {
  if (!staff.mfaEnabled) throw new AppError('conflict', 'MFA is not set up');
  await throttle(context, accountKeyOf(staff.odsCode, staff.email ?? staff.id));
  if ((await checkCode(context, staff, code)) !== 'totp')
    throw new AppError('badRequest', 'The code is not right, or has been used already');
  const { codes, hashes } = newRecoveryCodes();
  await withTransaction(context.pool, async (client) => {
    await replaceRecoveryCodes(client, staff.id, hashes);
    await recordAudit(client, {
      practiceId: staff.practiceId,
      actor: staff.id,
      action: 'mfa recovery codes renewed',
      entity: 'staff',
      entityId: staff.id,
    });
  });
  return codes;
}
