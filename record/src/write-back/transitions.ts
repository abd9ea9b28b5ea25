// Every change to a `write_back` row, one named transition each. Each moves the row only from the
// status it expects, so a late or repeated caller changes nothing and learns so from the result.
import type { WriteBackStatus } from '@gpc/contracts';
import type { Queryable, WriteBackDetail, WriteBackTransport } from './state';

export interface NewWriteBack {
  consultationId: string;
  practiceId: string;
  /** `pending` when the request has a valid NHS number; otherwise it waits for staff to match the patient. */
  status: Extract<WriteBackStatus, 'pending' | 'needs_patient_match'>;
  /** The summary version frozen with the close: what this write-back files, and nothing else. */
  summaryVersionId: string;
  /** Left out: the practice's own (`practice.write_back_transport`) as it stands at the close. */
  transport?: WriteBackTransport;
}

/** Opens a consultation's write-back, in the close's transaction; a second call is a no-op. */
export async function createWriteBack(db: Queryable, writeBack: NewWriteBack): Promise<void> {
  await db.query(
    `INSERT INTO write_back (consultation_id, practice_id, status, transport, summary_version_id)
     VALUES ($1, $2, $3, COALESCE($4, (SELECT write_back_transport FROM practice WHERE id = $2), 'fhir-r4'), $5)
     ON CONFLICT (consultation_id) DO NOTHING`,
    [
      writeBack.consultationId,
      writeBack.practiceId,
      writeBack.status,
      writeBack.transport ?? null,
      writeBack.summaryVersionId,
    ],
  );
}

/**
 * Claims a pending write-back for one attempt and counts it, as the CTE `claimed` (consultation_id,
 * practice_id, attempts, summary_version_id, transport) that `select` reads from, so the claim and the caller's load are one
 * statement. `$1` is the consultation id, `$2` the practice id. No row: it was not pending.
 */
export function claimAttemptSql(select: string): string {
  return `WITH claimed AS (
       UPDATE write_back SET attempts = attempts + 1, last_attempt_at = now(), updated_at = now()
        WHERE consultation_id = $1 AND practice_id = $2 AND status = 'pending'
        RETURNING consultation_id, practice_id, attempts, summary_version_id, transport)
     ${select}`;
}

/** pending → filed, with what its transport reported. False when it was not pending (or bound for another transport). */
export async function markFiled(
  db: Queryable,
  consultationId: string,
  detail: WriteBackDetail,
): Promise<boolean> {
  switch (detail.transport) {
    case 'fhir-r4': {
      const filed = await db.query(
        `UPDATE write_back SET status = 'filed', filed_at = now(), server_locations = $2, last_error = NULL,
                updated_at = now()
          WHERE consultation_id = $1 AND status = 'pending' AND transport = 'fhir-r4'`,
        [consultationId, JSON.stringify(detail.serverLocations)],
      );
      return filed.rowCount === 1;
    }
    case 'gp-connect-send-document':
      // filed by the GP system's business acknowledgement (`applyAcknowledgement`), never by the sender
      return false;
  }
}

/** pending → failed, for a person to fix and replay; `reason` is shown to them. False when it was not pending. */
export async function markFailed(db: Queryable, consultationId: string, reason: string): Promise<boolean> {
  const failed = await db.query(
    `UPDATE write_back SET status = 'failed', last_error = $2, updated_at = now()
      WHERE consultation_id = $1 AND status = 'pending'`,
    [consultationId, reason],
  );
  return failed.rowCount === 1;
}

/** Stays pending: records why this attempt failed, shown while the retry waits. */
export async function noteRetryableError(
  db: Queryable,
  consultationId: string,
  reason: string,
): Promise<void> {
  await db.query(
    `UPDATE write_back SET last_error = $2, updated_at = now() WHERE consultation_id = $1 AND status = 'pending'`,
    [consultationId, reason],
  );
}

/** pending → needs_patient_match: no valid NHS number, and a summary is never filed against a guess. */
export async function markNeedsPatientMatch(db: Queryable, consultationId: string): Promise<boolean> {
  const moved = await db.query(
    `UPDATE write_back SET status = 'needs_patient_match', updated_at = now()
      WHERE consultation_id = $1 AND status = 'pending'`,
    [consultationId],
  );
  return moved.rowCount === 1;
}

/** needs_patient_match → pending with no attempts and no error, once staff record the NHS number. */
export async function resumeAfterPatientMatch(db: Queryable, consultationId: string): Promise<boolean> {
  const resumed = await db.query(
    `UPDATE write_back SET status = 'pending', attempts = 0, last_error = NULL, updated_at = now()
      WHERE consultation_id = $1 AND status = 'needs_patient_match'`,
    [consultationId],
  );
  return resumed.rowCount === 1;
}

/** What `resetForReplay` did: reset it, or why not (it is in another status, or there is none). */
export type ReplayReset =
  { outcome: 'reset' } | { outcome: 'not-failed'; status: WriteBackStatus } | { outcome: 'none' };

/**
 * failed (or needs_attention, Send Document's) → pending with no attempts, for an admin's replay (the
 * last error stays on show until the next attempt). A Send Document replay sends a new message, which
 * replaces only a document an earlier one delivered. Scoped to the practice: another practice's
 * write-back reads as none.
 */
export async function resetForReplay(
  db: Queryable,
  writeBack: { consultationId: string; practiceId: string },
): Promise<ReplayReset> {
  const { rows } = await db.query<{ reset: boolean; status: WriteBackStatus | null }>(
    `WITH reset AS (
       UPDATE write_back SET status = 'pending', attempts = 0, updated_at = now()
        WHERE consultation_id = $1 AND practice_id = $2 AND status IN ('failed', 'needs_attention')
        RETURNING 1)
     SELECT EXISTS (SELECT 1 FROM reset) AS reset,
            (SELECT status FROM write_back WHERE consultation_id = $1 AND practice_id = $2) AS status`,
    [writeBack.consultationId, writeBack.practiceId],
  );
  const row = rows[0];
  if (row?.reset) return { outcome: 'reset' };
  return row?.status ? { outcome: 'not-failed', status: row.status } : { outcome: 'none' };
}
