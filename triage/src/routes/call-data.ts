import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import { CallDataList, callReportColumns, IdParams, refusals, type CallDataView } from '@gpc/contracts';
import { requireStaff } from '../auth/staff-auth';
import { callDataForConsultation, callReport } from '../db/call-data';
import { csvDocument } from '../csv';

export interface CallDataRoutesDeps {
  pool: pg.Pool;
}

/**
 * Call data for staff: each request's video calls (who joined and left when, the media path each
 * took, quality) on the request, for every member of staff of its practice; and `calls.csv`, every
 * call of the practice, for admins. Another practice's calls are never shown. See
 * contracts/src/rest/call-data.ts.
 */
export const callDataRoutes: FastifyPluginCallbackTypebox<CallDataRoutesDeps> = (app, { pool }, done) => {
  app.addHook('preHandler', requireStaff);

  app.get(
    '/consultations/:id/calls',
    {
      schema: {
        summary: 'The request’s video calls: who joined and left when, media paths, quality (staff)',
        params: IdParams,
        response: { 200: CallDataList, ...refusals(400, 401) },
      },
    },
    async (request) => callDataForConsultation(pool, request.staff.practiceId, request.params.id),
  );

  app.get(
    '/practice/calls.csv',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Every video call of the practice, one line per connection, as CSV (admins)',
        response: { 200: { content: { 'text/csv': { schema: Type.String() } } }, ...refusals(401, 403) },
      },
    },
    async (request, reply) => {
      const calls = await callReport(pool, request.staff.practiceId);
      return reply
        .type('text/csv; charset=utf-8')
        .header('content-disposition', 'attachment; filename="video-calls.csv"')
        .send(csvDocument(callReportColumns, calls.flatMap(reportLines)));
    },
  );
  done();
};

const iso = (value: string | null) => value ?? '';
const number = (value: number | null | undefined) =>
  value === null || value === undefined ? '' : String(value);

/** One line per connection of the call (one line with the call alone when nobody joined). */
function reportLines(call: CallDataView & { reference: string }): string[][] {
  const callCells = [
    call.callId,
    call.reference,
    call.createdAt,
    iso(call.startedAt),
    iso(call.endedAt),
    number(call.durationSeconds),
  ];
  if (call.attendances.length === 0) return [[...callCells, ...Array<string>(15).fill('')]];
  return call.attendances.map((attendance) => {
    const quality = attendance.quality;
    const connected = attendance.leftAt
      ? Math.round((Date.parse(attendance.leftAt) - Date.parse(attendance.joinedAt)) / 1000)
      : null;
    return [
      ...callCells,
      attendance.role,
      attendance.joinedAt,
      iso(attendance.leftAt),
      attendance.leftReason ?? '',
      number(connected),
      attendance.mediaPath ?? '',
      attendance.pathsSeen.join(' '),
      number(quality?.samples ?? 0),
      number(quality?.averageSendKbps),
      number(quality?.averageReceiveKbps),
      number(quality?.averageLossPercent),
      number(quality?.worstLossPercent),
      number(quality?.averageRoundTripMs),
      number(quality?.freezeCount),
      number(quality?.freezeSeconds),
    ];
  });
}
