import type { ThreadMessage } from '@gpc/contracts';
import type { Queryable } from './queryable';

/**
 * A request's thread: its messages between staff and the patient, and the patient's way in
 * (`thread_access`: wrong dates of birth counted, then a lock).
 */

interface MessageRow {
  id: string;
  author: string;
  body: string;
  created_at: Date;
}
const messageColumns = 'id, author, body, created_at';

const toThreadMessage = (row: MessageRow): ThreadMessage => ({
  id: row.id,
  author: row.author,
  body: row.body,
  at: row.created_at.toISOString(),
});

/** The request's messages, oldest first. The caller has checked the request is the caller's to read. */
export async function listMessages(db: Queryable, consultationId: string): Promise<ThreadMessage[]> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${messageColumns} FROM message WHERE consultation_id = $1 ORDER BY created_at`,
    [consultationId],
  );
  return rows.map(toThreadMessage);
}

/**
 * The request's messages, oldest first, shown to a member of staff now: in the same statement (so
 * the same snapshot), each of the patient's messages it reads is recorded as seen by them, and no
 * other. A reply committed while this runs is neither returned nor marked.
 */
export async function listMessagesShownTo(
  db: Queryable,
  consultationId: string,
  staffId: string,
): Promise<ThreadMessage[]> {
  const { rows } = await db.query<MessageRow>(
    `WITH shown AS (SELECT ${messageColumns}, author = 'patient' AS from_patient FROM message WHERE consultation_id = $1),
          seen AS (INSERT INTO message_seen (message_id, staff_id) SELECT id, $2 FROM shown WHERE from_patient
                   ON CONFLICT DO NOTHING)
     SELECT ${messageColumns} FROM shown ORDER BY created_at`,
    [consultationId, staffId],
  );
  return rows.map(toThreadMessage);
}

/**
 * The patient's messages on the request that `staffId` has not been shown (`listMessagesShownTo`),
 * oldest first. Lock the request first (`lockConsultation`): a reply then either committed before,
 * and is here, or waits for the lock.
 */
export async function unseenPatientMessages(
  db: Queryable,
  consultationId: string,
  staffId: string,
): Promise<ThreadMessage[]> {
  const { rows } = await db.query<MessageRow>(
    `SELECT ${messageColumns} FROM message m
      WHERE m.consultation_id = $1 AND m.author = 'patient'
        AND NOT EXISTS (SELECT 1 FROM message_seen s WHERE s.message_id = m.id AND s.staff_id = $2)
      ORDER BY m.created_at`,
    [consultationId, staffId],
  );
  return rows.map(toThreadMessage);
}

export interface NewMessage {
  practiceId: string;
  consultationId: string;
  body: string;
}

export async function insertStaffMessage(
  db: Queryable,
  message: NewMessage & { staffId: string },
): Promise<ThreadMessage> {
  const { rows } = await db.query<MessageRow>(
    `INSERT INTO message (practice_id, consultation_id, author, staff_id, body) VALUES ($1, $2, 'staff', $3, $4)
     RETURNING ${messageColumns}`,
    [message.practiceId, message.consultationId, message.staffId, message.body],
  );
  return toThreadMessage(rows[0]!);
}

export async function insertPatientMessage(db: Queryable, message: NewMessage): Promise<ThreadMessage> {
  const { rows } = await db.query<MessageRow>(
    `INSERT INTO message (practice_id, consultation_id, author, body) VALUES ($1, $2, 'patient', $3) RETURNING ${messageColumns}`,
    [message.practiceId, message.consultationId, message.body],
  );
  return toThreadMessage(rows[0]!);
}

/** The patient's way into a thread, as the date-of-birth check needs it. */
export interface ThreadAccess {
  failedAttempts: number;
  /** A lock after too many wrong tries is still running. */
  locked: boolean;
  /** The patient's date of birth, YYYY-MM-DD. */
  birthDate: string;
  reference: string;
}

/**
 * The thread's access row of the practice's request, created on first use and locked for the rest
 * of the transaction (two tries at once count as two); undefined when the request is not the practice's.
 */
export async function lockThreadAccess(
  db: Queryable,
  consultationId: string,
  practiceId: string,
): Promise<ThreadAccess | undefined> {
  await db.query('INSERT INTO thread_access (consultation_id) VALUES ($1) ON CONFLICT DO NOTHING', [
    consultationId,
  ]);
  const { rows } = await db.query<{
    failed_attempts: number;
    locked: boolean;
    birth_date: string;
    reference: string;
  }>(
    `SELECT t.failed_attempts, coalesce(t.locked_until > now(), false) AS locked, c.patient_birth_date::text AS birth_date, c.reference
       FROM thread_access t JOIN consultation c ON c.id = t.consultation_id
      WHERE t.consultation_id = $1 AND c.practice_id = $2 FOR UPDATE OF t`,
    [consultationId, practiceId],
  );
  const row = rows[0];
  return (
    row && {
      failedAttempts: row.failed_attempts,
      locked: row.locked,
      birthDate: row.birth_date,
      reference: row.reference,
    }
  );
}

/**
 * Counts a wrong date of birth: the `attempts`th in a row. At `maxTries` the thread locks for
 * `lockMinutes` and the count starts again.
 */
export async function recordWrongBirthDate(
  db: Queryable,
  consultationId: string,
  limits: { attempts: number; maxTries: number; lockMinutes: number },
): Promise<void> {
  await db.query(
    `UPDATE thread_access
        SET failed_attempts = CASE WHEN $2::int >= $3::int THEN 0 ELSE $2::int END,
            locked_until = CASE WHEN $2::int >= $3::int THEN now() + make_interval(mins => $4::int) END
      WHERE consultation_id = $1`,
    [consultationId, limits.attempts, limits.maxTries, limits.lockMinutes],
  );
}

/** The right date of birth: wrong tries so far are forgotten. */
export async function clearWrongBirthDates(db: Queryable, consultationId: string): Promise<void> {
  await db.query(
    'UPDATE thread_access SET failed_attempts = 0, locked_until = NULL WHERE consultation_id = $1',
    [consultationId],
  );
}
