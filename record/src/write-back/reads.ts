// Reading write-backs: one request's, a practice's in one status, and the sweep's lost ones.
import type { IdentityStatus, WriteBackJob, WriteBackStatus } from '@gpc/contracts';
import {
  toWriteBackState,
  writeBackColumns,
  type Queryable,
  type WriteBackRow,
  type WriteBackState,
} from './state';

/** A consultation's write-back, scoped to its practice; undefined when it has none. */
export async function findWriteBack(
  db: Queryable,
  writeBack: { consultationId: string; practiceId: string },
): Promise<WriteBackState | undefined> {
  const { rows } = await db.query<WriteBackRow>(
    `SELECT ${writeBackColumns} FROM write_back w WHERE w.consultation_id = $1 AND w.practice_id = $2`,
    [writeBack.consultationId, writeBack.practiceId],
  );
  return rows[0] ? toWriteBackState(rows[0]) : undefined;
}

/** A write-back with the request it belongs to, as `/write-backs` lists them. */
export interface ListedWriteBack {
  consultationId: string;
  reference: string;
  patientName: string;
  closedAt: Date;
  /** The request's patient identity status (the consultation's), for saying what a held summary waits for. */
  identityStatus: IdentityStatus;
  writeBack: WriteBackState;
}

/** A practice's write-backs in one status, oldest close first (e.g. the failed ones an admin should look at). */
export async function listWriteBacks(
  db: Queryable,
  query: { practiceId: string; status: WriteBackStatus; limit: number },
): Promise<ListedWriteBack[]> {
  const { rows } = await db.query<
    WriteBackRow & {
      reference: string;
      patient_name: string;
      closed_at: Date;
      identity_status: IdentityStatus;
    }
  >(
    `SELECT ${writeBackColumns}, c.reference, c.patient_given_name || ' ' || c.patient_family_name AS patient_name,
            c.closed_at, c.identity_status
       FROM write_back w JOIN consultation c ON c.id = w.consultation_id
      WHERE w.practice_id = $1 AND w.status = $2
      ORDER BY c.closed_at LIMIT $3`,
    [query.practiceId, query.status, query.limit],
  );
  return rows.map((row) => ({
    consultationId: row.consultation_id,
    reference: row.reference,
    patientName: row.patient_name,
    closedAt: row.closed_at,
    identityStatus: row.identity_status,
    writeBack: toWriteBackState(row),
  }));
}

/**
 * Pending write-backs untouched for `untouchedForMs`, oldest first: their job may be lost with
 * Redis (or was never queued), so the sweep queues them again.
 */
export async function listUntouchedPending(
  db: Queryable,
  query: { untouchedForMs: number; limit: number },
): Promise<WriteBackJob[]> {
  const { rows } = await db.query<{ consultation_id: string; practice_id: string }>(
    `SELECT consultation_id, practice_id FROM write_back
      WHERE status = 'pending' AND updated_at < now() - make_interval(secs => $1)
      ORDER BY updated_at LIMIT $2`,
    [query.untouchedForMs / 1000, query.limit],
  );
  return rows.map((row) => ({ consultationId: row.consultation_id, practiceId: row.practice_id }));
}

/** Write-backs by status across practices, for the record worker's metrics: counts only. */
export async function countWriteBacksByStatus(db: Queryable): Promise<{ status: string; count: number }[]> {
  const { rows } = await db.query<{ status: string; count: number }>(
    'SELECT status, count(*)::int AS count FROM write_back GROUP BY status',
  );
  return rows;
}
