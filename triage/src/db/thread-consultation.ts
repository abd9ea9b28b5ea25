import type { VerifiedUpload } from '../attachments/store';
import type { PatientContact } from '../notifications/settings';
import type { Queryable } from './queryable';

/**
 * The reads and status changes of a request that its thread makes: staff message the patient
 * (awaiting the patient), the patient replies (back in front of staff). They belong with the
 * request's other state changes in db/consultations.ts, where they move once that module exists.
 */

/** What a staff message needs of the request and its practice: how the link can reach the patient. */
export interface MessageRecipient {
  status: string;
  contact: PatientContact;
  /** The practice's provider settings as stored (null: staff send links themselves). */
  notificationSettings: unknown;
}

/** The practice's request, locked for the rest of the transaction, with how to reach its patient. */
export async function lockMessageRecipient(
  db: Queryable,
  consultationId: string,
  practiceId: string,
): Promise<MessageRecipient | undefined> {
  const { rows } = await db.query<{
    status: string;
    contact_phone: string | null;
    contact_email: string | null;
    preferred_contact: PatientContact['preferred'];
    notification_settings: unknown;
  }>(
    `SELECT c.status, c.contact_phone, c.contact_email, c.preferred_contact, p.notification_settings
       FROM consultation c JOIN practice p ON p.id = c.practice_id
      WHERE c.id = $1 AND c.practice_id = $2 FOR UPDATE OF c`,
    [consultationId, practiceId],
  );
  const row = rows[0];
  return (
    row && {
      status: row.status,
      contact: { phone: row.contact_phone, email: row.contact_email, preferred: row.preferred_contact },
      notificationSettings: row.notification_settings,
    }
  );
}

/** Staff have written to the patient: the request waits for them. */
export async function markAwaitingPatient(db: Queryable, consultationId: string): Promise<void> {
  await db.query(`UPDATE consultation SET status = 'awaiting_patient', updated_at = now() WHERE id = $1`, [
    consultationId,
  ]);
}

/** The patient has replied: a request waiting for them goes back in front of staff. */
export async function returnToStaffAfterReply(db: Queryable, consultationId: string): Promise<void> {
  await db.query(
    `UPDATE consultation SET status = 'in_progress', updated_at = now() WHERE id = $1 AND status = 'awaiting_patient'`,
    [consultationId],
  );
}

/** Files the patient sent with a reply, now part of the request. */
export async function insertAttachments(
  db: Queryable,
  practiceId: string,
  consultationId: string,
  files: readonly VerifiedUpload[],
): Promise<void> {
  for (const file of files) {
    await db.query(
      'INSERT INTO attachment (practice_id, consultation_id, s3_key, content_type, size_bytes) VALUES ($1, $2, $3, $4, $5)',
      [practiceId, consultationId, file.key, file.contentType, file.size],
    );
  }
}
