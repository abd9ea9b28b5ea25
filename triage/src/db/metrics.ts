// What triage's metrics read from PostgreSQL at scrape time: counts only, never a row's content.
import type pg from 'pg';

/** Call attendances by the media path they last reported (direct UDP/TCP, `relay-*`), over the last day. */
export async function attendancesByMediaPath(pool: pg.Pool): Promise<{ path: string; count: number }[]> {
  const { rows } = await pool.query<{ path: string; count: number }>(
    `SELECT media_path AS path, count(*)::int AS count FROM video_call_attendance
      WHERE media_path IS NOT NULL AND joined_at > now() - interval '1 day' GROUP BY media_path`,
  );
  return rows;
}
