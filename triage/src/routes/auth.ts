import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  refusals,
  RefreshTokenBody,
  SignInBody,
  StaffSession,
  type StaffTokenClaims,
} from '@gpc/contracts';
import { decoyHash, verifyPassword } from '../auth/passwords';
import { accessTokenSeconds } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import {
  findStaffForSignIn,
  insertStaffSession,
  redeemRefreshToken,
  revokeRefreshToken,
  type StaffIdentity,
} from '../db/staff';

const refreshTokenDays = 7;
const hashToken = (token: string) => createHash('sha256').update(token).digest('base64url');

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
    async (request) => openSession(app, pool, await signIn(pool, request.body)),
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
      const staff = await redeemRefreshToken(pool, hashToken(request.body.refreshToken));
      if (!staff) throw new AppError('unauthorized', 'Sign in again');
      return openSession(app, pool, staff);
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
      await revokeRefreshToken(pool, hashToken(request.body.refreshToken));
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

/** A new session for the member of staff: a refresh token (stored hashed) and a signed access token. */
async function openSession(app: FastifyInstance, pool: pg.Pool, staff: StaffIdentity): Promise<StaffSession> {
  const refreshToken = randomBytes(32).toString('base64url');
  await insertStaffSession(pool, staff.id, hashToken(refreshToken), refreshTokenDays);
  const claims: StaffTokenClaims = {
    typ: 'staff',
    sub: staff.id,
    practiceId: staff.practiceId,
    role: staff.role,
    name: staff.name,
  };
  return {
    accessToken: app.jwt.sign(claims),
    expiresIn: accessTokenSeconds,
    refreshToken,
    staff: { id: staff.id, name: staff.name, role: staff.role, practiceId: staff.practiceId },
  };
}
