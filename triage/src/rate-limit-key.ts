import type { FastifyInstance, FastifyRequest } from 'fastify';
import { staffClaimsOf } from './auth/staff-auth';
import { verifyThreadSession } from './thread-tokens';

/**
 * Whom the general rate limit counts a request against, from its verified bearer token: a member
 * of staff on their own (a practice's staff often share one address), a patient's thread on its own
 * (thread sessions name no person, only the request: one patient cannot use up another's limit),
 * and anything else, forged tokens included, by client address.
 */
export function rateLimitKey(app: FastifyInstance, request: FastifyRequest): string {
  const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
  if (!token) return request.ip;
  const staff = staffClaimsOf(app.tokens, token);
  if (staff) return `staff:${staff.sub}`;
  try {
    return `thread:${verifyThreadSession(app, request).consultationId}`;
  } catch {
    // not a valid token: counted by address like everyone else
    return request.ip;
  }
}
