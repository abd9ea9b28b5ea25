// A request's patient identity (the `identity_*` columns of `consultation`) and the trace it is
// owed (`patient_trace`). Every change is a named transition here:
// - owed at intake (db/submissions), or `oweFreshTrace` when staff record a number: → tracing, confirmation cleared
// - `claimOwedTrace` counts an attempt; `recordTraceResult` → done, with the status PDS gave;
//   `noteTraceUnavailable` stays owed (trace_unavailable), tried again later
// - `confirmIdentity`: staff confirm a verified trace for the number the request has
import type { IdentityStatus } from '@gpc/contracts';
import type { TraceSubject } from '../identity/classify';
import type { TraceResult } from '../identity/trace-result';
import type { Queryable } from './queryable';

/** A request's identity as the detail and the confirm route read it. */
export interface IdentityState {
  source: 'form' | 'nhs_login';
  proofingLevel: 'P0' | 'P5' | 'P9' | null;
  status: IdentityStatus;
  nhsNumber: string | null;
  confirmedAt: Date | null;
  confirmedBy: { id: string; name: string } | null;
  confirmedNhsNumber: string | null;
  /** The trace owed or done; null when none was ever owed (no number, or NHS login at P9). */
  trace: {
    status: 'owed' | 'done';
    attempts: number;
    lastError: string | null;
    result: TraceResult | null;
  } | null;
  /** The request's write-back's status; null while it has none. */
  writeBackStatus: string | null;
}

interface IdentityRow {
  identity_source: 'form' | 'nhs_login';
  identity_proofing_level: 'P0' | 'P5' | 'P9' | null;
  identity_status: IdentityStatus;
  patient_nhs_number: string | null;
  identity_confirmed_at: Date | null;
  identity_confirmed_by: string | null;
  confirmed_by_name: string | null;
  identity_confirmed_nhs_number: string | null;
  trace_status: 'owed' | 'done' | null;
  trace_attempts: number | null;
  trace_last_error: string | null;
  trace_result: TraceResult | null;
  write_back_status: string | null;
}

const toIdentityState = (row: IdentityRow): IdentityState => ({
  source: row.identity_source,
  proofingLevel: row.identity_proofing_level,
  status: row.identity_status,
  nhsNumber: row.patient_nhs_number,
  confirmedAt: row.identity_confirmed_at,
  confirmedBy:
    row.identity_confirmed_by && row.confirmed_by_name
      ? { id: row.identity_confirmed_by, name: row.confirmed_by_name }
      : null,
  confirmedNhsNumber: row.identity_confirmed_nhs_number,
  trace: row.trace_status
    ? {
        status: row.trace_status,
        attempts: row.trace_attempts ?? 0,
        lastError: row.trace_last_error,
        result: row.trace_result,
      }
    : null,
  writeBackStatus: row.write_back_status,
});

const identitySelect = (lock: string) =>
  `SELECT c.identity_source, c.identity_proofing_level, c.identity_status, c.patient_nhs_number, c.identity_confirmed_at,
          c.identity_confirmed_by, s.display_name AS confirmed_by_name, c.identity_confirmed_nhs_number,
          t.status AS trace_status, t.attempts AS trace_attempts, t.last_error AS trace_last_error, t.result AS trace_result,
          w.status AS write_back_status
     FROM consultation c
     LEFT JOIN staff s ON s.id = c.identity_confirmed_by
     LEFT JOIN patient_trace t ON t.consultation_id = c.id
     LEFT JOIN write_back w ON w.consultation_id = c.id
    WHERE c.id = $1 AND c.practice_id = $2 ${lock}`;

/** The practice's request's identity; undefined when the request is not the practice's. */
export async function findIdentity(
  db: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<IdentityState | undefined> {
  const { rows } = await db.query<IdentityRow>(identitySelect(''), [consultationId, practiceId]);
  return rows[0] ? toIdentityState(rows[0]) : undefined;
}

/** The same, with the request locked for the rest of the transaction (to confirm it). */
export async function lockIdentity(
  client: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<IdentityState | undefined> {
  const { rows } = await client.query<IdentityRow>(identitySelect('FOR UPDATE OF c'), [
    consultationId,
    practiceId,
  ]);
  return rows[0] ? toIdentityState(rows[0]) : undefined;
}

/**
 * The filing gate: identity is confirmed for the NHS number the request has now (staff confirmed a
 * verified trace, or NHS login at P9). False for a request that is not there.
 */
export async function isIdentityConfirmed(db: Queryable, consultationId: string): Promise<boolean> {
  const { rows } = await db.query<{ confirmed: boolean }>(
    `SELECT identity_confirmed_at IS NOT NULL AND identity_confirmed_nhs_number = patient_nhs_number AS confirmed
       FROM consultation WHERE id = $1`,
    [consultationId],
  );
  return rows[0]?.confirmed === true;
}

/** verified → confirmed by a member of staff, for this NHS number (lock it first with `lockIdentity`). */
export async function confirmIdentity(
  client: Queryable,
  confirmation: { practiceId: string; consultationId: string; staffId: string; nhsNumber: string },
): Promise<boolean> {
  const confirmed = await client.query(
    `UPDATE consultation SET identity_confirmed_at = now(), identity_confirmed_by = $3, identity_confirmed_nhs_number = $4,
            updated_at = now()
      WHERE id = $1 AND practice_id = $2 AND identity_status = 'verified' AND patient_nhs_number = $4`,
    [confirmation.consultationId, confirmation.practiceId, confirmation.staffId, confirmation.nhsNumber],
  );
  return confirmed.rowCount === 1;
}

/**
 * Records the NHS number staff give for the request and owes it a fresh trace: any confirmation
 * (for whatever number) is undone, and the trace starts again from nothing.
 */
export async function oweFreshTrace(
  client: Queryable,
  request: { practiceId: string; consultationId: string; nhsNumber: string },
): Promise<void> {
  await client.query(
    `WITH numbered AS (
       UPDATE consultation SET patient_nhs_number = $3, identity_status = 'tracing', identity_confirmed_at = NULL,
              identity_confirmed_by = NULL, identity_confirmed_nhs_number = NULL, updated_at = now()
        WHERE id = $1 AND practice_id = $2
        RETURNING id, practice_id)
     INSERT INTO patient_trace (consultation_id, practice_id)
     SELECT id, practice_id FROM numbered
     ON CONFLICT (consultation_id) DO UPDATE SET status = 'owed', attempts = 0, last_error = NULL, result = NULL,
       next_attempt_at = now(), updated_at = now()`,
    [request.consultationId, request.practiceId, request.nhsNumber],
  );
}

/** An owed trace claimed for one attempt: whom to trace, and the attempt's number. */
export interface ClaimedTrace {
  consultationId: string;
  practiceId: string;
  attempt: number;
  subject: TraceSubject;
}

/** Claims an owed trace for one attempt (counting it); undefined when none is owed or the request has no number. */
export async function claimOwedTrace(
  db: Queryable,
  consultationId: string,
): Promise<ClaimedTrace | undefined> {
  const { rows } = await db.query<{
    practice_id: string;
    attempts: number;
    patient_nhs_number: string;
    patient_given_name: string;
    patient_family_name: string;
    birth_date: string;
    ods_code: string;
  }>(
    `WITH claimed AS (
       UPDATE patient_trace t SET attempts = t.attempts + 1, updated_at = now()
         FROM consultation c
        WHERE t.consultation_id = $1 AND t.status = 'owed' AND c.id = t.consultation_id AND c.patient_nhs_number IS NOT NULL
        RETURNING t.consultation_id, t.practice_id, t.attempts)
     SELECT cl.practice_id, cl.attempts, c.patient_nhs_number, c.patient_given_name, c.patient_family_name,
            c.patient_birth_date::text AS birth_date, p.ods_code
       FROM claimed cl JOIN consultation c ON c.id = cl.consultation_id JOIN practice p ON p.id = cl.practice_id`,
    [consultationId],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    consultationId,
    practiceId: row.practice_id,
    attempt: row.attempts,
    subject: {
      nhsNumber: row.patient_nhs_number,
      givenName: row.patient_given_name,
      familyName: row.patient_family_name,
      birthDate: row.birth_date,
      practiceOdsCode: row.ods_code,
    },
  };
}

/**
 * owed → done with PDS's answer, and the request's identity status set from it, both only while
 * the request still has the number traced (staff may have changed it meanwhile: that trace is owed
 * afresh). False when nothing was recorded.
 */
export async function recordTraceResult(
  db: Queryable,
  consultationId: string,
  result: TraceResult,
): Promise<boolean> {
  const { rowCount } = await db.query(
    `WITH current AS (
       SELECT id FROM consultation WHERE id = $1 AND patient_nhs_number = $2 FOR UPDATE
     ), done AS (
       UPDATE patient_trace SET status = 'done', result = $4, last_error = NULL, updated_at = now()
        WHERE consultation_id IN (SELECT id FROM current) AND status = 'owed'
        RETURNING consultation_id)
     UPDATE consultation SET identity_status = $3 WHERE id IN (SELECT consultation_id FROM done)`,
    [consultationId, result.nhsNumber, result.status, JSON.stringify(result)],
  );
  return rowCount === 1;
}

/** Stays owed: PDS could not answer (`reason` never holds patient details); tried again at `nextAttemptAt`. */
export async function noteTraceUnavailable(
  db: Queryable,
  trace: { consultationId: string; nhsNumber: string; reason: string; nextAttemptAt: Date },
): Promise<void> {
  await db.query(
    `WITH noted AS (
       UPDATE patient_trace SET last_error = $3, next_attempt_at = $4, updated_at = now()
        WHERE consultation_id = $1 AND status = 'owed'
        RETURNING consultation_id)
     UPDATE consultation SET identity_status = 'trace_unavailable'
      WHERE id IN (SELECT consultation_id FROM noted) AND patient_nhs_number = $2 AND identity_status = 'tracing'`,
    [trace.consultationId, trace.nhsNumber, trace.reason, trace.nextAttemptAt],
  );
}

/**
 * Owed traces whose next attempt has been due for `overdueForMs` and that no attempt touched in that
 * time: their job may be lost with Redis (or was never queued), so the sweep queues them again.
 */
export async function listOverdueTraces(
  db: Queryable,
  query: { overdueForMs: number; limit: number },
): Promise<string[]> {
  const { rows } = await db.query<{ consultation_id: string }>(
    `SELECT consultation_id FROM patient_trace
      WHERE status = 'owed' AND next_attempt_at < now() - make_interval(secs => $1)
        AND updated_at < now() - make_interval(secs => $1)
      ORDER BY next_attempt_at LIMIT $2`,
    [query.overdueForMs / 1000, query.limit],
  );
  return rows.map((row) => row.consultation_id);
}
