// The `attachment` table: a request's files and where they are stored (the form's files are written
// by the submission's one statement, db/submissions.ts; a reply's here). Each row keeps the key the
// patient uploaded to and the verified copy (`verified/…`, which no upload grant can write) with its
// sha256: staff and the GP record only ever read the copy.
import type { VerifiedUpload } from '../attachments/store';
import type { Queryable } from './queryable';

export interface StoredAttachment {
  id: string;
  contentType: string;
  sizeBytes: number;
  /** Where the verified copy is in the attachment store. */
  verifiedKey: string;
  sha256: string;
  createdAt: Date;
}

/**
 * A request's verified attachments, oldest first. Rows from before uploads were checked have no
 * verified copy and are not shown: what the patient may still overwrite is never served to staff.
 */
export async function listAttachments(
  db: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<StoredAttachment[]> {
  const { rows } = await db.query<{
    id: string;
    content_type: string;
    size_bytes: number;
    verified_key: string;
    sha256: string;
    created_at: Date;
  }>(
    `SELECT id, content_type, size_bytes, verified_key, sha256, created_at FROM attachment
      WHERE consultation_id = $1 AND practice_id = $2 AND verified_key IS NOT NULL ORDER BY created_at, id`,
    [consultationId, practiceId],
  );
  return rows.map((row) => ({
    id: row.id,
    contentType: row.content_type,
    sizeBytes: row.size_bytes,
    verifiedKey: row.verified_key,
    sha256: row.sha256,
    createdAt: row.created_at,
  }));
}

/** Files the patient sent with a reply, now part of the request (their verified copies). */
export async function insertAttachments(
  db: Queryable,
  practiceId: string,
  consultationId: string,
  files: readonly VerifiedUpload[],
): Promise<void> {
  for (const file of files) {
    await db.query(
      `INSERT INTO attachment (practice_id, consultation_id, s3_key, content_type, size_bytes, verified_key, sha256)
       VALUES ($1, $2, $3, $4, $5, $6, $7)`,
      [practiceId, consultationId, file.key, file.contentType, file.size, file.verifiedKey, file.sha256],
    );
  }
}
