import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import { AppError } from '@gpc/contracts';
import { allowRoles } from '../auth/staff-auth';
import { withTransaction } from '../db/transaction';
import { ErrorBody } from '../errors';

const Rule = Type.Object(
  {
    matchKind: Type.Optional(Type.Union([Type.Literal('medical'), Type.Literal('admin')])),
    matchFormSlug: Type.Optional(Type.String({ pattern: '^[a-z0-9-]{2,60}$' })),
    assignTo: Type.String({ format: 'uuid' }),
    setPriority: Type.Optional(
      Type.Union([Type.Literal('urgent'), Type.Literal('soon'), Type.Literal('routine')]),
    ),
  },
  { additionalProperties: false },
);
const Rules = Type.Array(Rule, { maxItems: 50 });

/** Care navigation: practice admins set the rules that assign new requests as they arrive. */
export function registerNavigationRoutes(app: FastifyInstance, pool: pg.Pool): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.get(
    '/navigation-rules',
    {
      preHandler: allowRoles('admin', 'clinician', 'reception'),
      schema: {
        summary: 'The practice’s care navigation rules, in order',
        response: { 200: Rules, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const { rows } = await pool.query<{
        match_kind: 'medical' | 'admin' | null;
        match_form_slug: string | null;
        assign_to: string;
        set_priority: 'urgent' | 'soon' | 'routine' | null;
      }>(
        'SELECT match_kind, match_form_slug, assign_to, set_priority FROM navigation_rule WHERE practice_id = $1 ORDER BY position',
        [request.staff.practiceId],
      );
      return rows.map((row) => ({
        ...(row.match_kind ? { matchKind: row.match_kind } : {}),
        ...(row.match_form_slug ? { matchFormSlug: row.match_form_slug } : {}),
        assignTo: row.assign_to,
        ...(row.set_priority ? { setPriority: row.set_priority } : {}),
      }));
    },
  );

  typed.put(
    '/navigation-rules',
    {
      preHandler: allowRoles('admin'),
      schema: {
        summary: 'Replace the care navigation rules (admins)',
        body: Rules,
        response: { 200: Rules, 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      await withTransaction(pool, async (client) => {
        for (const rule of request.body) {
          const member = await client.query(
            'SELECT 1 FROM staff WHERE id = $1 AND practice_id = $2 AND active',
            [rule.assignTo, practiceId],
          );
          if (member.rowCount === 0)
            throw new AppError('badRequest', 'assignTo must be a member of this practice');
        }
        await client.query('DELETE FROM navigation_rule WHERE practice_id = $1', [practiceId]);
        for (const [position, rule] of request.body.entries()) {
          await client.query(
            'INSERT INTO navigation_rule (practice_id, position, match_kind, match_form_slug, assign_to, set_priority) VALUES ($1, $2, $3, $4, $5, $6)',
            [
              practiceId,
              position,
              rule.matchKind ?? null,
              rule.matchFormSlug ?? null,
              rule.assignTo,
              rule.setPriority ?? null,
            ],
          );
        }
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, 'set navigation rules', 'practice', $3)`,
          [practiceId, sub, practiceId],
        );
      });
      return request.body;
    },
  );
}
