import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { randomBytes } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import {
  AppError,
  MfaPolicy,
  refusals,
  StaffIdParams,
  TemporaryPassword,
  type StaffTokenClaims,
} from '@gpc/contracts';
import { announceRevoked } from '../auth/announce-revoked';
import { hashPassword } from '../auth/passwords';
import { requireStaffOf } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import { revokeStaffSessions } from '../db/staff';
import { findMfaPolicy, resetMfa, resetPassword, updateMfaPolicy } from '../db/staff-credentials';
import { withTransaction } from '../db/transaction';
import type { Queryable } from '../db/queryable';

export interface StaffCredentialRoutesDeps {
  pool: pg.Pool;
}

/**
 * A practice's admins look after their colleagues' sign-in: reset a password (a temporary one, shown
 * once, changed at next sign-in) or MFA (off; set up again at next sign-in when the practice requires
 * it), and choose which roles must use MFA. Admins only, their own practice's staff only, never
 * themselves (their account page is for that); each reset ends the member's sessions, audited.
 */
export const staffCredentialRoutes: FastifyPluginCallbackTypebox<StaffCredentialRoutesDeps> = (
  app,
  { pool },
  done,
) => {
  app.addHook('preHandler', requireStaffOf('admin'));

  app.post(
    '/staff/:staffId/password/reset',
    {
      schema: {
        summary: 'Reset a colleague’s password: a temporary one, shown once (admins)',
        params: StaffIdParams,
        response: { 200: TemporaryPassword, ...refusals(401, 403, 404, 409) },
      },
    },
    async (request) => {
      const temporaryPassword = newTemporaryPassword();
      const passwordHash = await hashPassword(temporaryPassword);
      await resetColleague(
        app,
        pool,
        request.staff,
        request.params.staffId,
        'password reset',
        (db, practiceId, id) => resetPassword(db, practiceId, id, passwordHash),
      );
      return { temporaryPassword };
    },
  );

  app.post(
    '/staff/:staffId/mfa/reset',
    {
      schema: {
        summary: 'Reset a colleague’s MFA: off until they set it up again (admins)',
        params: StaffIdParams,
        response: { 204: Type.Null(), ...refusals(401, 403, 404) },
      },
    },
    async (request, reply) => {
      await resetColleague(app, pool, request.staff, request.params.staffId, 'mfa reset', resetMfa);
      return reply.code(204).send(null);
    },
  );

  app.get(
    '/practice/mfa-policy',
    {
      schema: {
        summary: 'The roles that must sign in with MFA (admins)',
        response: { 200: MfaPolicy, ...refusals(401, 403) },
      },
    },
    async (request) => ({ requiredRoles: await findMfaPolicy(pool, request.staff.practiceId) }),
  );

  app.put(
    '/practice/mfa-policy',
    {
      schema: {
        summary: 'Choose the roles that must sign in with MFA (admins)',
        body: MfaPolicy,
        response: { 200: MfaPolicy, ...refusals(400, 401, 403) },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const roles = request.body.requiredRoles;
      await withTransaction(pool, async (client) => {
        await updateMfaPolicy(client, practiceId, roles);
        await recordAudit(client, {
          practiceId,
          actor: sub,
          action: `mfa required of: ${roles.join(', ') || 'no role'}`,
          entity: 'practice',
          entityId: practiceId,
        });
      });
      return { requiredRoles: roles };
    },
  );
  done();
};

/** 16 letters and digits in fours (80 random bits), easy to read out over the phone. */
function newTemporaryPassword(): string {
  const alphabet = '23456789ABCDEFGHJKMNPQRSTVWXYZ';
  const chars = [...randomBytes(16)].map((byte) => alphabet[byte % alphabet.length]).join('');
  return chars.match(/.{4}/g)!.join('-');
}

/**
 * Runs a reset of a colleague at the admin's own practice, with their sessions ended and the reset
 * audited, in one transaction; then their open dashboards and calls close. Not found for anyone
 * else's staff (the same answer as for no one).
 */
async function resetColleague(
  app: FastifyInstance,
  pool: pg.Pool,
  admin: StaffTokenClaims,
  staffId: string,
  action: string,
  reset: (
    db: Queryable,
    practiceId: string,
    staffId: string,
  ) => Promise<'reset' | 'no-password' | 'not-found'>,
): Promise<void> {
  if (staffId === admin.sub)
    throw new AppError('forbidden', 'Change your own password or MFA on your account page');
  await withTransaction(pool, async (client) => {
    const outcome = await reset(client, admin.practiceId, staffId);
    if (outcome === 'not-found')
      throw new AppError('notFound', 'There is no such member of staff at your practice');
    if (outcome === 'no-password')
      throw new AppError('conflict', 'They sign in with NHS CIS2: there is no password here to reset');
    await revokeStaffSessions(client, staffId);
    await recordAudit(client, {
      practiceId: admin.practiceId,
      actor: admin.sub,
      action,
      entity: 'staff',
      entityId: staffId,
    });
  });
  await announceRevoked(app, staffId);
}
