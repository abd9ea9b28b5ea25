import type { FastifyInstance } from 'fastify';

/**
 * Closes a member of staff's live dashboards and calls on every node, after their access changed
 * (a reset, a password change, a refresh-token family revoked for reuse): staff-revocation.ts
 * decorates the app with `announceStaffRevoked`. Their refresh tokens are revoked already, so at
 * worst their access token runs out.
 */
export async function announceRevoked(app: FastifyInstance, staffId: string): Promise<void> {
  const revocation = app as { announceStaffRevoked?: (staffId: string) => Promise<void> };
  await revocation.announceStaffRevoked?.(staffId);
}
