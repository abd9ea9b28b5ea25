import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  IdParams,
  maxPauseHours,
  maxPauseLeadDays,
  NewPause,
  PauseList,
  pauseReportColumns,
  PauseView,
  refusals,
  type StaffTokenClaims,
} from '@gpc/contracts';
import { requireStaffOf } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import {
  endPauseEarly,
  findPause,
  insertPause,
  listPauses,
  pauseReport,
  type PauseReportRow,
} from '../db/pauses';
import { withTransaction } from '../db/transaction';
import { csvCell } from '../csv';

export interface PauseRoutesDeps {
  pool: pg.Pool;
  now: () => Date;
}

/**
 * `/practice/pauses`: an admin pauses the practice's online form in exceptional circumstances (agreed
 * with the ICB), saying why and until when; it ends by itself then, or when an admin ends it early.
 * Both acts are audited; every pause stays on record, and `pauses.csv` is the report for the ICB.
 * Admins only. See contracts/src/rest/pauses.ts.
 */
export const pauseRoutes: FastifyPluginCallbackTypebox<PauseRoutesDeps> = (app, { pool, now }, done) => {
  app.addHook('preHandler', requireStaffOf('admin'));

  app.get(
    '/pauses',
    {
      schema: {
        summary: 'The practice’s exceptional pauses, newest first (admins)',
        response: { 200: PauseList, ...refusals(401, 403) },
      },
    },
    async (request) => listPauses(pool, request.staff.practiceId, now()),
  );

  app.post(
    '/pauses',
    {
      schema: {
        summary: 'Pause the online form: why, from and until (admins; audited)',
        body: NewPause,
        response: { 201: PauseView, ...refusals(400, 401, 403, 409) },
      },
    },
    async (request, reply) => reply.code(201).send(await pause(pool, request.staff, request.body, now())),
  );

  app.post(
    '/pauses/:id/end',
    {
      schema: {
        summary: 'End a pause now, before its end (admins; audited)',
        params: IdParams,
        response: { 200: PauseView, ...refusals(401, 403, 404, 409) },
      },
    },
    async (request) => endEarly(pool, request.staff, request.params.id, now()),
  );

  app.get(
    '/pauses.csv',
    {
      schema: {
        summary: 'Every pause of the practice, as CSV for the ICB (admins)',
        response: { 200: { content: { 'text/csv': { schema: Type.String() } } }, ...refusals(401, 403) },
      },
    },
    async (request, reply) => {
      const rows = await pauseReport(pool, request.staff.practiceId);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="online-form-pauses.csv"')
        .send(toCsv(rows));
    },
  );
  done();
};

/** Checks the times, records the pause and its audit event together. */
async function pause(pool: pg.Pool, admin: StaffTokenClaims, body: NewPause, now: Date): Promise<PauseView> {
  const { from, until } = checkPauseTimes(body, now);
  return withTransaction(pool, async (client) => {
    const created = await insertPause(client, {
      practiceId: admin.practiceId,
      pausedBy: admin.sub,
      reason: body.reason.trim(),
      from,
      until,
    });
    if (!created) throw new AppError('conflict', 'The online form is already paused for some of that time');
    await recordAudit(client, {
      practiceId: admin.practiceId,
      actor: admin.sub,
      action: 'pause online requests',
      entity: 'practice_pause',
      entityId: created.id,
    });
    return (await findPause(client, admin.practiceId, created.id, now))!;
  });
}

/** A pause must end, and soon: after it starts, at most `maxPauseHours` later; and not start in the past. */
function checkPauseTimes(body: NewPause, now: Date): { from: Date; until: Date } {
  const from = body.from ? new Date(body.from) : now;
  const until = new Date(body.until);
  // a minute's grace for the admin's clock
  if (from.getTime() < now.getTime() - 60_000)
    throw new AppError('badRequest', 'A pause cannot start in the past');
  if (from.getTime() > now.getTime() + maxPauseLeadDays * 86_400_000)
    throw new AppError('badRequest', `A pause can be set up at most ${maxPauseLeadDays} days ahead`);
  if (until <= from) throw new AppError('badRequest', 'A pause must end after it starts');
  if (until.getTime() - from.getTime() > maxPauseHours * 3_600_000)
    throw new AppError(
      'badRequest',
      `A pause lasts at most ${maxPauseHours} hours; to pause for longer, pause again when it ends`,
    );
  return { from: from < now ? now : from, until };
}

async function endEarly(
  pool: pg.Pool,
  admin: StaffTokenClaims,
  pauseId: string,
  now: Date,
): Promise<PauseView> {
  return withTransaction(pool, async (client) => {
    const outcome = await endPauseEarly(client, {
      practiceId: admin.practiceId,
      pauseId,
      endedBy: admin.sub,
      now,
    });
    if (outcome === 'notFound') throw new AppError('notFound', 'No such pause');
    if (outcome === 'alreadyOver') throw new AppError('conflict', 'This pause is already over');
    await recordAudit(client, {
      practiceId: admin.practiceId,
      actor: admin.sub,
      action: 'end pause early',
      entity: 'practice_pause',
      entityId: pauseId,
    });
    return (await findPause(client, admin.practiceId, pauseId, now))!;
  });
}

/** The report: one line per pause, RFC 4180 quoting, times in ISO 8601 UTC. */
export function toCsv(rows: PauseReportRow[]): string {
  const lines = rows.map((row) =>
    [
      row.practiceOdsCode,
      row.practiceName,
      row.pausedBy,
      row.reason,
      row.from.toISOString(),
      row.until.toISOString(),
      row.endedEarlyBy ?? '',
      row.endedEarlyAt?.toISOString() ?? '',
      row.recordedAt.toISOString(),
    ]
      .map(csvCell)
      .join(','),
  );
  return [pauseReportColumns.join(','), ...lines].join('\r\n') + '\r\n';
}
