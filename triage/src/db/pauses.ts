// Exceptional pauses of a practice's online form (`practice_pause`): made, ended early, listed and
// reported. A pause ends by itself at its `ends_at`: nothing runs then, every reader compares times.
import type { PauseView } from '@gpc/contracts';
import type { Queryable } from './queryable';

export interface NewPauseRow {
  practiceId: string;
  pausedBy: string;
  reason: string;
  from: Date;
  until: Date;
}

/**
 * Records a pause; undefined when it would overlap one of the practice's pauses not yet over (one
 * pause at a time, so the report reads plainly). The practice's row is locked for the transaction,
 * so two admins pausing at once cannot both pass the check: run it in a transaction.
 */
export async function insertPause(db: Queryable, pause: NewPauseRow): Promise<{ id: string } | undefined> {
  await db.query('SELECT 1 FROM practice WHERE id = $1 FOR UPDATE', [pause.practiceId]);
  const overlapping = await db.query(
    `SELECT 1 FROM practice_pause
      WHERE practice_id = $1 AND starts_at < $3 AND COALESCE(ended_early_at, ends_at) > $2`,
    [pause.practiceId, pause.from, pause.until],
  );
  if (overlapping.rowCount) return undefined;
  const { rows } = await db.query<{ id: string }>(
    `INSERT INTO practice_pause (practice_id, paused_by, reason, starts_at, ends_at)
     VALUES ($1, $2, $3, $4, $5) RETURNING id`,
    [pause.practiceId, pause.pausedBy, pause.reason, pause.from, pause.until],
  );
  return rows[0];
}

/**
 * Ends a pause now, before its `until` (or cancels one not yet started): `ended`, or why not.
 * A pause already over (ended early, or past its `until`) is left as it is.
 */
export async function endPauseEarly(
  db: Queryable,
  change: { practiceId: string; pauseId: string; endedBy: string; now: Date },
): Promise<'ended' | 'notFound' | 'alreadyOver'> {
  const { rowCount } = await db.query(
    `UPDATE practice_pause SET ended_early_at = $4, ended_early_by = $3
      WHERE id = $2 AND practice_id = $1 AND ended_early_at IS NULL AND ends_at > $4`,
    [change.practiceId, change.pauseId, change.endedBy, change.now],
  );
  if (rowCount) return 'ended';
  const exists = await db.query('SELECT 1 FROM practice_pause WHERE id = $2 AND practice_id = $1', [
    change.practiceId,
    change.pauseId,
  ]);
  return exists.rowCount ? 'alreadyOver' : 'notFound';
}

/**
 * A column (for a query over `practice p`) holding the end of the pause in force at the instant
 * `$nowParam`, or null: the public form and the intake read it in their one round trip.
 */
export const pausedUntilColumn = (nowParam: string) =>
  `(SELECT max(pp.ends_at) FROM practice_pause pp
     WHERE pp.practice_id = p.id AND pp.ended_early_at IS NULL AND pp.starts_at <= ${nowParam} AND pp.ends_at > ${nowParam})`;

interface PauseRow {
  id: string;
  reason: string;
  starts_at: Date;
  ends_at: Date;
  created_at: Date;
  paused_by: string;
  paused_by_name: string;
  ended_early_at: Date | null;
  ended_early_by: string | null;
  ended_early_by_name: string | null;
}

const pauseQuery = `SELECT pp.id, pp.reason, pp.starts_at, pp.ends_at, pp.created_at, pp.paused_by,
       s.display_name AS paused_by_name, pp.ended_early_at, pp.ended_early_by, e.display_name AS ended_early_by_name
  FROM practice_pause pp JOIN staff s ON s.id = pp.paused_by LEFT JOIN staff e ON e.id = pp.ended_early_by`;

/** The practice's pauses, newest first, as admins see them at `now`. */
export async function listPauses(db: Queryable, practiceId: string, now: Date): Promise<PauseView[]> {
  const { rows } = await db.query<PauseRow>(
    `${pauseQuery} WHERE pp.practice_id = $1 ORDER BY pp.starts_at DESC, pp.created_at DESC`,
    [practiceId],
  );
  return rows.map((row) => toPauseView(row, now));
}

/** One of the practice's pauses, as admins see it at `now`. */
export async function findPause(
  db: Queryable,
  practiceId: string,
  pauseId: string,
  now: Date,
): Promise<PauseView | undefined> {
  const { rows } = await db.query<PauseRow>(`${pauseQuery} WHERE pp.practice_id = $1 AND pp.id = $2`, [
    practiceId,
    pauseId,
  ]);
  return rows[0] && toPauseView(rows[0], now);
}

function toPauseView(row: PauseRow, now: Date): PauseView {
  const over = (row.ended_early_at !== null && row.ended_early_at <= now) || row.ends_at <= now;
  return {
    id: row.id,
    reason: row.reason,
    from: row.starts_at.toISOString(),
    until: row.ends_at.toISOString(),
    status: over ? 'ended' : row.starts_at > now ? 'scheduled' : 'in-force',
    pausedBy: { id: row.paused_by, name: row.paused_by_name },
    createdAt: row.created_at.toISOString(),
    endedEarly:
      row.ended_early_at && row.ended_early_by
        ? {
            at: row.ended_early_at.toISOString(),
            by: { id: row.ended_early_by, name: row.ended_early_by_name ?? '' },
          }
        : null,
  };
}

/** One line of the ICB's report: every pause, oldest first, with who paused and who ended it early. */
export interface PauseReportRow {
  practiceOdsCode: string;
  practiceName: string;
  pausedBy: string;
  reason: string;
  from: Date;
  until: Date;
  endedEarlyBy: string | null;
  endedEarlyAt: Date | null;
  recordedAt: Date;
}

export async function pauseReport(db: Queryable, practiceId: string): Promise<PauseReportRow[]> {
  const { rows } = await db.query<{
    ods_code: string;
    name: string;
    paused_by: string;
    reason: string;
    starts_at: Date;
    ends_at: Date;
    ended_early_by: string | null;
    ended_early_at: Date | null;
    created_at: Date;
  }>(
    `SELECT p.ods_code, p.name, s.display_name || COALESCE(' <' || s.email || '>', '') AS paused_by, pp.reason, pp.starts_at,
            pp.ends_at, e.display_name || COALESCE(' <' || e.email || '>', '') AS ended_early_by, pp.ended_early_at, pp.created_at
       FROM practice_pause pp JOIN practice p ON p.id = pp.practice_id JOIN staff s ON s.id = pp.paused_by
       LEFT JOIN staff e ON e.id = pp.ended_early_by
      WHERE pp.practice_id = $1 ORDER BY pp.starts_at, pp.created_at`,
    [practiceId],
  );
  return rows.map((row) => ({
    practiceOdsCode: row.ods_code,
    practiceName: row.name,
    pausedBy: row.paused_by,
    reason: row.reason,
    from: row.starts_at,
    until: row.ends_at,
    endedEarlyBy: row.ended_early_by,
    endedEarlyAt: row.ended_early_at,
    recordedAt: row.created_at,
  }));
}
