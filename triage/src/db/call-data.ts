// Call data (`video_call_attendance`, `video_call_quality`): who joined each video call and left
// when, the media path their page took, and the pages' quality summaries. Written only through the
// named transitions below, each from one call-node event whose id becomes the row's (or, for a
// change to a row, can only happen once), so an event sent again records nothing twice.
import type { AttendanceEnd, AttendanceView, CallDataView, CallEvent, MediaPath } from '@gpc/contracts';
import type { Queryable } from './queryable';

/** What became of one event: recorded now, recorded before (a retry), or not for any call we know. */
export type EventOutcome = 'recorded' | 'alreadyRecorded' | 'notRecorded';

type EventOf<T extends CallEvent['type']> = Extract<CallEvent, { type: T }>;

/** A participant's connection joined: a new attendance, for a call triage made for that practice. */
export async function attendanceJoined(db: Queryable, event: EventOf<'joined'>): Promise<EventOutcome> {
  const { rowCount } = await db.query(
    `INSERT INTO video_call_attendance (id, call_id, practice_id, participant_id, role, display_name, joined_at)
     SELECT $1, vc.id, vc.practice_id, $4, $5, $6, $7 FROM video_call vc
      WHERE vc.id = $2 AND vc.practice_id::text = $3
     ON CONFLICT (id) DO NOTHING`,
    [event.eventId, event.callId, event.practiceId, event.participantId, event.role, event.name, event.at],
  );
  if (rowCount) return 'recorded';
  return (await attendanceExists(db, event.eventId)) ? 'alreadyRecorded' : 'notRecorded';
}

/** The connection was let into the call; once (the first admission recorded stands). */
export async function attendanceAdmitted(db: Queryable, event: EventOf<'admitted'>): Promise<EventOutcome> {
  const { rowCount } = await db.query(
    `UPDATE video_call_attendance SET admitted_at = GREATEST(joined_at, $4::timestamptz)
      WHERE id = $1 AND call_id = $2 AND practice_id::text = $3 AND admitted_at IS NULL`,
    [event.attendanceId, event.callId, event.practiceId, event.at],
  );
  if (rowCount) return 'recorded';
  return (await attendanceExists(db, event.attendanceId, event)) ? 'alreadyRecorded' : 'notRecorded';
}

/** The connection ended, and why; an attendance ends once (the first end recorded stands). */
export async function attendanceLeft(db: Queryable, event: EventOf<'left'>): Promise<EventOutcome> {
  const { rowCount } = await db.query(
    `UPDATE video_call_attendance SET left_at = GREATEST(joined_at, $4::timestamptz), left_reason = $5
      WHERE id = $1 AND call_id = $2 AND practice_id::text = $3 AND left_at IS NULL`,
    [event.attendanceId, event.callId, event.practiceId, event.at, event.reason],
  );
  if (rowCount) return 'recorded';
  return (await attendanceExists(db, event.attendanceId, event)) ? 'alreadyRecorded' : 'notRecorded';
}

/** A page's quality summary for its connection; its path becomes the connection's unless a later one came first. */
export async function qualityReported(db: Queryable, event: EventOf<'quality'>): Promise<EventOutcome> {
  const { report } = event;
  const { rowCount } = await db.query(
    `INSERT INTO video_call_quality (id, attendance_id, at, window_seconds, media_path, send_kbps, recv_kbps,
       loss_percent, round_trip_ms, freeze_count, freeze_seconds)
     SELECT $1, a.id, $5, $6, $7, $8, $9, $10, $11, $12, $13 FROM video_call_attendance a
      WHERE a.id = $2 AND a.call_id = $3 AND a.practice_id::text = $4
     ON CONFLICT (id) DO NOTHING`,
    [
      event.eventId,
      event.attendanceId,
      event.callId,
      event.practiceId,
      event.at,
      report.windowSeconds,
      report.path ?? null,
      report.sendKbps,
      report.receiveKbps,
      report.lossPercent,
      report.roundTripMs ?? null,
      report.freezeCount,
      report.freezeSeconds,
    ],
  );
  if (!rowCount) {
    const known = await db.query('SELECT 1 FROM video_call_quality WHERE id = $1', [event.eventId]);
    return known.rowCount ? 'alreadyRecorded' : 'notRecorded';
  }
  if (report.path)
    await db.query(
      `UPDATE video_call_attendance SET media_path = $2, media_path_at = $3
        WHERE id = $1 AND (media_path_at IS NULL OR media_path_at <= $3)`,
      [event.attendanceId, report.path, event.at],
    );
  return 'recorded';
}

/**
 * The call ended: connections still open end with it. The call's own end (`video_call.ended_at`)
 * is db/calls.ts's to record; this closes the attendances only.
 */
export async function attendancesEndedWithCall(db: Queryable, event: EventOf<'ended'>): Promise<void> {
  await db.query(
    `UPDATE video_call_attendance SET left_at = GREATEST(joined_at, $3::timestamptz), left_reason = 'ended'
      WHERE call_id = $1 AND practice_id::text = $2 AND left_at IS NULL`,
    [event.callId, event.practiceId, event.at],
  );
}

async function attendanceExists(
  db: Queryable,
  attendanceId: string,
  of?: { callId: string; practiceId: string },
): Promise<boolean> {
  const { rowCount } = of
    ? await db.query(
        'SELECT 1 FROM video_call_attendance WHERE id = $1 AND call_id = $2 AND practice_id::text = $3',
        [attendanceId, of.callId, of.practiceId],
      )
    : await db.query('SELECT 1 FROM video_call_attendance WHERE id = $1', [attendanceId]);
  return Boolean(rowCount);
}

interface AttendanceRow {
  call_id: string;
  reference: string;
  created_at: Date;
  ended_at: Date | null;
  attendance_id: string | null;
  role: AttendanceView['role'] | null;
  display_name: string | null;
  joined_at: Date | null;
  admitted_at: Date | null;
  left_at: Date | null;
  left_reason: AttendanceEnd | null;
  media_path: MediaPath | null;
  samples: number;
  avg_send: number | null;
  avg_recv: number | null;
  avg_loss: number | null;
  max_loss: number | null;
  avg_rtt: number | null;
  freezes: number | null;
  freeze_seconds: number | null;
  paths: MediaPath[] | null;
}

/** Every call matching `where` (over `video_call vc`), each with its attendances and their quality. */
async function attendanceRows(
  db: Queryable,
  where: string,
  params: unknown[],
  order: 'ASC' | 'DESC',
): Promise<AttendanceRow[]> {
  const { rows } = await db.query<AttendanceRow>(
    `SELECT vc.id AS call_id, c.reference, vc.created_at, vc.ended_at, a.id AS attendance_id, a.role,
            a.display_name, a.joined_at, a.admitted_at, a.left_at, a.left_reason, a.media_path, q.*, paths.paths
       FROM video_call vc
       JOIN consultation c ON c.id = vc.consultation_id
       LEFT JOIN video_call_attendance a ON a.call_id = vc.id
       LEFT JOIN LATERAL (
         SELECT count(*)::int AS samples, round(avg(send_kbps))::int AS avg_send,
                round(avg(recv_kbps))::int AS avg_recv, round(avg(loss_percent)::numeric, 2)::float8 AS avg_loss,
                round(max(loss_percent)::numeric, 2)::float8 AS max_loss, round(avg(round_trip_ms))::int AS avg_rtt,
                sum(freeze_count)::int AS freezes, round(sum(freeze_seconds)::numeric, 2)::float8 AS freeze_seconds
           FROM video_call_quality WHERE attendance_id = a.id) q ON true
       LEFT JOIN LATERAL (
         SELECT array_agg(media_path ORDER BY first_at) AS paths
           FROM (SELECT media_path, min(at) AS first_at FROM video_call_quality
                  WHERE attendance_id = a.id AND media_path IS NOT NULL GROUP BY media_path) seen) paths ON true
      WHERE ${where}
      ORDER BY vc.created_at ${order}, vc.id, a.joined_at, a.id`,
    params,
  );
  return rows;
}

function attendanceView(row: AttendanceRow): AttendanceView {
  return {
    role: row.role!,
    name: row.display_name!,
    joinedAt: row.joined_at!.toISOString(),
    admittedAt: row.admitted_at?.toISOString() ?? null,
    leftAt: row.left_at?.toISOString() ?? null,
    leftReason: row.left_reason,
    mediaPath: row.media_path,
    pathsSeen: row.paths ?? [],
    quality:
      row.samples > 0
        ? {
            samples: row.samples,
            averageSendKbps: row.avg_send ?? 0,
            averageReceiveKbps: row.avg_recv ?? 0,
            averageLossPercent: row.avg_loss ?? 0,
            worstLossPercent: row.max_loss ?? 0,
            averageRoundTripMs: row.avg_rtt,
            freezeCount: row.freezes ?? 0,
            freezeSeconds: row.freeze_seconds ?? 0,
          }
        : null,
  };
}

/** Rows of one call each, in the order given, as staff see them. */
function groupByCall(rows: AttendanceRow[]): (CallDataView & { reference: string })[] {
  const calls = new Map<string, CallDataView & { reference: string }>();
  for (const row of rows) {
    let call = calls.get(row.call_id);
    if (!call) {
      call = {
        callId: row.call_id,
        reference: row.reference,
        createdAt: row.created_at.toISOString(),
        startedAt: null,
        endedAt: row.ended_at?.toISOString() ?? null,
        durationSeconds: null,
        attendances: [],
      };
      calls.set(row.call_id, call);
    }
    if (row.attendance_id) call.attendances.push(attendanceView(row));
  }
  for (const call of calls.values()) Object.assign(call, callSpan(call));
  return [...calls.values()];
}

/**
 * From the first join to the call's end, or to the last leave once everyone has left; still going
 * (no end, no duration) while anyone is connected.
 */
function callSpan(call: CallDataView): Pick<CallDataView, 'startedAt' | 'endedAt' | 'durationSeconds'> {
  const joins = call.attendances.map((a) => Date.parse(a.joinedAt));
  if (joins.length === 0) return { startedAt: null, endedAt: call.endedAt, durationSeconds: null };
  const start = Math.min(...joins);
  const allLeft = call.attendances.every((a) => a.leftAt !== null);
  const lastLeave = allLeft ? Math.max(...call.attendances.map((a) => Date.parse(a.leftAt!))) : undefined;
  const end = lastLeave ?? (call.endedAt ? Date.parse(call.endedAt) : undefined);
  return {
    startedAt: new Date(start).toISOString(),
    endedAt: end === undefined ? null : new Date(end).toISOString(),
    durationSeconds: end === undefined ? null : Math.max(0, Math.round((end - start) / 1000)),
  };
}

/** The calls of one request of the practice, newest first; another practice's request has none. */
export async function callDataForConsultation(
  db: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<CallDataView[]> {
  const rows = await attendanceRows(
    db,
    'vc.practice_id = $1 AND vc.consultation_id = $2',
    [practiceId, consultationId],
    'DESC',
  );
  return groupByCall(rows).map(({ reference: _reference, ...call }) => call);
}

/** Every call of the practice, oldest first, with its request's reference: the CSV report. */
export async function callReport(
  db: Queryable,
  practiceId: string,
): Promise<(CallDataView & { reference: string })[]> {
  return groupByCall(await attendanceRows(db, 'vc.practice_id = $1', [practiceId], 'ASC'));
}
