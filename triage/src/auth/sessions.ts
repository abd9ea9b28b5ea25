import { createHash, randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { StaffSession, StaffTokenClaims } from '@gpc/contracts';
import { insertStaffSession, type StaffIdentity } from '../db/staff';
import type { Queryable } from '../db/queryable';
import { accessTokenSeconds, signStaffToken } from './staff-auth';

/**
 * Staff sessions, however the member of staff signed in (password, password + TOTP, NHS CIS2): a
 * refresh token (stored hashed only) and a short signed access token. Every sign-in route ends here.
 */

export const refreshTokenDays = 7;

/** Refresh tokens are stored as this hash only, so a database leak yields no usable token. */
export const hashRefreshToken = (token: string): string =>
  createHash('sha256').update(token).digest('base64url');

/**
 * A new session for the member of staff: a refresh token and a signed access token. A sign-in opens
 * a new family of refresh tokens; a refresh passes the family its spent token belonged to.
 */
export async function openStaffSession(
  app: FastifyInstance,
  db: Queryable,
  staff: StaffIdentity,
  family?: string,
): Promise<StaffSession> {
  const refreshToken = randomBytes(32).toString('base64url');
  await insertStaffSession(db, staff.id, hashRefreshToken(refreshToken), refreshTokenDays, family);
  const claims: StaffTokenClaims = {
    typ: 'staff',
    sub: staff.id,
    practiceId: staff.practiceId,
    role: staff.role,
    name: staff.name,
  };
  return {
    accessToken: signStaffToken(app.tokens, claims),
    expiresIn: accessTokenSeconds,
    refreshToken,
    staff: { id: staff.id, name: staff.name, role: staff.role, practiceId: staff.practiceId },
  };
}
