// Video calls triage made (`video_call`): recorded when a clinician or admin starts one, found
// before any token for it is signed. The call itself runs on a call node.
import type { Queryable } from './queryable';

export interface VideoCallRow {
  id: string;
  practiceId: string;
  consultationId: string;
  createdBy: string;
  createdAt: Date;
  linksExpireAt: Date;
  endedAt: Date | null;
}

const columns = `id, practice_id AS "practiceId", consultation_id AS "consultationId",
  created_by AS "createdBy", created_at AS "createdAt", links_expire_at AS "linksExpireAt",
  ended_at AS "endedAt"`;

/** Records a new call for a request of the practice; its links are signed until `linksExpireAt`. */
export async function insertVideoCall(
  db: Queryable,
  call: { practiceId: string; consultationId: string; createdBy: string; linksExpireAt: Date },
): Promise<VideoCallRow> {
  const { rows } = await db.query<VideoCallRow>(
    `INSERT INTO video_call (practice_id, consultation_id, created_by, links_expire_at)
     VALUES ($1, $2, $3, $4) RETURNING ${columns}`,
    [call.practiceId, call.consultationId, call.createdBy, call.linksExpireAt],
  );
  return rows[0]!;
}

/** A call of this practice; another practice's call is as good as missing. */
export async function findVideoCall(
  db: Queryable,
  practiceId: string,
  callId: string,
): Promise<VideoCallRow | undefined> {
  const { rows } = await db.query<VideoCallRow>(
    `SELECT ${columns} FROM video_call WHERE id = $1 AND practice_id = $2`,
    [callId, practiceId],
  );
  return rows[0];
}

/** The patient's name on a request of the practice, as they gave it; undefined when no such request. */
export async function findPatientNameForCall(
  db: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT btrim(patient_given_name || ' ' || patient_family_name) AS name
       FROM consultation WHERE id = $1 AND practice_id = $2`,
    [consultationId, practiceId],
  );
  return rows[0]?.name;
}

/**
 * The call node says the call ended (the clinician ended it, or nobody came back in time): once,
 * the first end reported standing. `notFound` when it is not a call of that practice.
 */
export async function markVideoCallEnded(
  db: Queryable,
  change: { callId: string; practiceId: string; at: string },
): Promise<'ended' | 'alreadyEnded' | 'notFound'> {
  const { rowCount } = await db.query(
    `UPDATE video_call SET ended_at = $3 WHERE id = $1 AND practice_id::text = $2 AND ended_at IS NULL`,
    [change.callId, change.practiceId, change.at],
  );
  if (rowCount) return 'ended';
  const exists = await db.query('SELECT 1 FROM video_call WHERE id = $1 AND practice_id::text = $2', [
    change.callId,
    change.practiceId,
  ]);
  return exists.rowCount ? 'alreadyEnded' : 'notFound';
}
