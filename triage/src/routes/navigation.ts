import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import { AppError, refusals, NavigationRules, type NavigationRule } from '@gpc/contracts';
import { requireStaff } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import { isAssignableStaff } from '../db/staff';
import { listNavigationRules, replaceNavigationRules } from '../db/navigation';
import type { Queryable } from '../db/queryable';
import { withTransaction } from '../db/transaction';

export interface NavigationRoutesDeps {
  pool: pg.Pool;
}

/** Care navigation, under `/navigation-rules`: practice admins set the rules that assign new requests as they arrive. */
export const navigationRoutes: FastifyPluginCallbackTypebox<NavigationRoutesDeps> = (app, { pool }, done) => {
  app.addHook('preHandler', requireStaff);

  app.get(
    '',
    {
      schema: {
        summary: 'The practice’s care navigation rules, in order',
        response: { 200: NavigationRules, ...refusals(401, 403) },
      },
    },
    async (request) => listNavigationRules(pool, request.staff.practiceId),
  );

  app.put(
    '',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Replace the care navigation rules (admins)',
        body: NavigationRules,
        response: { 200: NavigationRules, ...refusals(400, 401, 403) },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      await withTransaction(pool, async (client) => {
        await checkAssignees(client, practiceId, request.body);
        await replaceNavigationRules(client, practiceId, request.body);
        await recordAudit(client, {
          practiceId,
          actor: sub,
          action: 'set navigation rules',
          entity: 'practice',
          entityId: practiceId,
        });
      });
      return request.body;
    },
  );
  done();
};

/** Every rule assigns to an active member of the practice's staff. */
async function checkAssignees(
  client: Queryable,
  practiceId: string,
  rules: readonly NavigationRule[],
): Promise<void> {
  for (const rule of rules) {
    if (!(await isAssignableStaff(client, practiceId, rule.assignTo)))
      throw new AppError('badRequest', 'assignTo must be a member of this practice');
  }
}
