import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import { AppError, refusals, RefreshTokenBody, SignInBody, StaffSession } from '@gpc/contracts';
import { decoyHash, verifyPassword } from '../auth/passwords';
import { hashRefreshToken, openStaffSession } from '../auth/sessions';
import { recordAudit } from '../db/audit';
import { findStaffForSignIn, redeemRefreshToken, revokeRefreshToken, type StaffIdentity } from '../db/staff';

export interface AuthRoutesDeps {
  pool: pg.Pool;
}

/**
 * Staff sign in, under `/auth`, with their practice, email and password; a refresh token renews
 * the short access token. No staff guard: these are how staff get a token.
 */
export const authRoutes: FastifyPluginCallbackTypebox<AuthRoutesDeps> = (app, { pool }, done) => {
  app.post(
    '/login',
    {
      schema: {
        summary: 'Staff sign-in',
        body: SignInBody,
        response: { 200: StaffSession, ...refusals(400, 401) },
      },
      config: { rateLimit: { max: 10, timeWindow: '1 minute' } },
    },
    async (request) => openStaffSession(app, pool, await signIn(pool, request.body)),
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
    async (request) => {
      // each refresh token works once: it is revoked as the new one is issued
      const staff = await redeemRefreshToken(pool, hashRefreshToken(request.body.refreshToken));
      if (!staff) throw new AppError('unauthorized', 'Sign in again');
      return openStaffSession(app, pool, staff);
    },
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
      await revokeRefreshToken(pool, hashRefreshToken(request.body.refreshToken));
      return reply.code(204).send(null);
    },
  );
  done();
};

/** The member of staff the practice, email and password belong to, audited; refused otherwise, in the same words. */
async function signIn(pool: pg.Pool, { odsCode, email, password }: SignInBody): Promise<StaffIdentity> {
  const staff = await findStaffForSignIn(pool, odsCode.toUpperCase(), email.trim().toLowerCase());
  // an unknown email costs the same time as a wrong password
  const valid = await verifyPassword(password, staff?.passwordHash ?? decoyHash);
  if (!staff || !valid) throw new AppError('unauthorized', 'The practice, email or password is not right');
  await recordAudit(pool, {
    practiceId: staff.practiceId,
    actor: staff.id,
    action: 'login',
    entity: 'staff',
    entityId: staff.id,
  });
  return staff;
}
