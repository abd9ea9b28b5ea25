// The `attachment` table: a request's files and where they are stored (the form's files are written
// by the submission's one statement, db/submissions.ts; a reply's here).
import type { VerifiedUpload } from '../attachments/store';
import type { Queryable } from './queryable';

export interface StoredAttachment {
  id: string;
  contentType: string;
  sizeBytes: number;
  /** Where the file is in the attachment store. */
  s3Key: string;
}

/** A request's attachments, oldest first. */
export async function listAttachments(
  db: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<StoredAttachment[]> {
  const { rows } = await db.query<{ id: string; content_type: string; size_bytes: number; s3_key: string }>(
    'SELECT id, content_type, size_bytes, s3_key FROM attachment WHERE consultation_id = $1 AND practice_id = $2 ORDER BY created_at',
    [consultationId, practiceId],
  );
  return rows.map((row) => ({
    id: row.id,
    contentType: row.content_type,
    sizeBytes: row.size_bytes,
    s3Key: row.s3_key,
  }));
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
