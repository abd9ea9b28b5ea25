// The `consultation` table: the practice's queue, one request in full, and every change to a request
// as a named transition (claim, change, close, patient's NHS number, awaiting the patient, back to staff). Every statement is scoped to
// the practice in the caller's token.
import type {
  ConsultationDetail,
  ConsultationKind,
  ConsultationPriority,
  ConsultationStatus,
  QueueItem,
  WriteBackStatus,
} from '@gpc/contracts';
import type { Questionnaire } from '@medplum/fhirtypes';
import { resolveAnswers } from '@gpc/contracts';
import type { PatientContact } from '../notifications/settings';
import type { Queryable } from './queryable';

interface QueueRow {
  id: string;
  reference: string;
  kind: ConsultationKind;
  status: ConsultationStatus;
  priority: ConsultationPriority;
  patient_name: string;
  assigned_to: string | null;
  created_at: Date;
  age_minutes: number;
  write_back_status: WriteBackStatus | null;
  due_at: Date | null;
  overdue: boolean;
  red_flag: 'urgent' | null;
  reply_by: string | null;
}

interface DetailRow extends QueueRow {
  birth_date: string;
  patient_nhs_number: string | null;
  contact_phone: string | null;
  contact_email: string | null;
  preferred_contact: string | null;
  preferred_times: string | null;
  submitted_by: string;
  proxy_name: string | null;
  proxy_relationship: string | null;
  questionnaire_response: Record<string, unknown> | null;
  form_title: string | null;
  /** The form version the patient answered: its words are what staff are shown. */
  form_resource: Questionnaire | null;
  outcome_display: string | null;
  summary: string | null;
  claimed_by: string | null;
  claimed_by_name: string | null;
}

const toQueueItem = (row: QueueRow): QueueItem => ({
  id: row.id,
  reference: row.reference,
  kind: row.kind,
  status: row.status,
  priority: row.priority,
  patientName: row.patient_name,
  assignedTo: row.assigned_to,
  createdAt: row.created_at.toISOString(),
  ageMinutes: row.age_minutes,
  writeBackStatus: row.write_back_status,
  dueAt: row.due_at?.toISOString() ?? null,
  overdue: row.overdue,
  redFlag: row.red_flag,
  replyBy: row.reply_by,
});

/**
 * A request in full, but for its notifications (`listNotifications` in db/notifications) and its
 * write-back (`findWriteBack` of @gpc/record/write-back, which owns that table and its transports).
 */
export type ConsultationRecord = Omit<ConsultationDetail, 'notifications' | 'writeBack' | 'identity'>;

const toConsultationRecord = (row: DetailRow): ConsultationRecord => ({
  ...toQueueItem(row),
  birthDate: row.birth_date,
  nhsNumber: row.patient_nhs_number,
  contact: {
    phone: row.contact_phone,
    email: row.contact_email,
    preferred: row.preferred_contact,
    times: row.preferred_times,
  },
  submittedBy:
    row.submitted_by === 'proxy'
      ? { name: row.proxy_name ?? '', relationship: row.proxy_relationship ?? '' }
      : null,
  formTitle: row.form_title,
  // the server's own question text and labels, never what the client sent (shared with the summary version)
  answers: resolveAnswers(row.form_resource, row.questionnaire_response),
  outcome: row.outcome_display,
  summary: row.summary,
  claimedBy: row.claimed_by && row.claimed_by_name ? { id: row.claimed_by, name: row.claimed_by_name } : null,
});

/**
 * When a request's first action is due, as SQL over the row `c`: created + the practice's response
 * target for its priority; NULL once it has been actioned. "Actioned" means a member of staff has
 * done something the patient's care moved on by: sent the patient a message (the first `message`
 * of author 'staff'), let the patient into one of its video calls (their attendance admitted, as the
 * call node reports it), or closed the request. Opening, claiming, assigning or prioritising it is
 * not actioning it, and neither is a call the patient never came into (a link sent, a patient left
 * waiting). Recomputed on every read, so a change of priority or target applies at once.
 */
const dueAtOf = (c: string) => `CASE WHEN ${c}.status = 'closed'
    OR EXISTS (SELECT 1 FROM message m WHERE m.consultation_id = ${c}.id AND m.author = 'staff')
    OR EXISTS (SELECT 1 FROM video_call vc JOIN video_call_attendance a ON a.call_id = vc.id
                WHERE vc.consultation_id = ${c}.id AND a.role = 'patient' AND a.admitted_at IS NOT NULL) THEN NULL
  ELSE ${c}.created_at + make_interval(mins => (SELECT CASE ${c}.priority
      WHEN 'urgent' THEN p.response_target_urgent_minutes WHEN 'soon' THEN p.response_target_soon_minutes
      ELSE p.response_target_routine_minutes END FROM practice p WHERE p.id = ${c}.practice_id)) END`;

/** `due_at` and `overdue` (past due by the database's clock) of the row `c`, for a select list. */
const dueColumnsOf = (c: string) =>
  `${dueAtOf(c)} AS due_at, coalesce(${dueAtOf(c)} <= now(), false) AS overdue`;

/** A queue item's columns, for SELECT and for RETURNING. */
const itemColumns = `id, reference, kind, status, priority, patient_given_name || ' ' || patient_family_name AS patient_name,
  assigned_to, created_at, floor(extract(epoch FROM now() - created_at) / 60)::int AS age_minutes,
  (SELECT w.status FROM write_back w WHERE w.consultation_id = consultation.id) AS write_back_status,
  ${dueColumnsOf('consultation')}, red_flag, reply_by::text AS reply_by`;

/** The queue's filters, as `GET /consultations` takes them once `assignee: 'me'` is resolved. */
export interface QueueFilter {
  status?: ConsultationStatus | undefined;
  priority?: ConsultationPriority | undefined;
  kind?: ConsultationKind | undefined;
  /** A member of staff's id, or null for requests assigned to no one. */
  assignee?: string | null | undefined;
  olderThanMinutes?: number | undefined;
  limit: number;
}

/** The practice's queue: most urgent first, then oldest first. */
export async function listQueue(
  db: Queryable,
  practiceId: string,
  filter: QueueFilter,
): Promise<QueueItem[]> {
  const where = ['practice_id = $1'];
  const values: unknown[] = [practiceId];
  const add = (clause: string, value: unknown) => {
    values.push(value);
    where.push(clause.replace('?', `$${values.length}`));
  };
  if (filter.status) add('status = ?', filter.status);
  if (filter.priority) add('priority = ?', filter.priority);
  if (filter.kind) add('kind = ?', filter.kind);
  if (filter.assignee === null) where.push('assigned_to IS NULL');
  else if (filter.assignee) add('assigned_to = ?', filter.assignee);
  if (filter.olderThanMinutes !== undefined)
    add(`created_at < now() - make_interval(mins => ?)`, filter.olderThanMinutes);
  values.push(filter.limit);
  const { rows } = await db.query<QueueRow>(
    `SELECT ${itemColumns} FROM consultation WHERE ${where.join(' AND ')}
      ORDER BY priority_rank, created_at LIMIT $${values.length}`,
    values,
  );
  return rows.map(toQueueItem);
}

/** How many of the practice's open requests are past their response target, not actioned. */
export async function countOverdue(db: Queryable, practiceId: string): Promise<number> {
  const { rows } = await db.query<{ overdue: number }>(
    `SELECT count(*)::int AS overdue FROM consultation c
      WHERE c.practice_id = $1 AND c.status <> 'closed' AND ${dueAtOf('c')} <= now()`,
    [practiceId],
  );
  return rows[0]?.overdue ?? 0;
}

/**
 * Opening a request claims it for `staffId`, unless a colleague opened it in the last 15 minutes.
 * True when the holder changed to `staffId` (re-opening your own changes nothing worth telling).
 */
export async function claimConsultation(
  db: Queryable,
  practiceId: string,
  consultationId: string,
  staffId: string,
): Promise<boolean> {
  const { rows } = await db.query<{ previous: string | null; updated: number }>(
    `WITH before AS (SELECT claimed_by, claimed_at FROM consultation WHERE id = $1 AND practice_id = $2),
          changed AS (
            UPDATE consultation SET claimed_by = $3, claimed_at = now()
             WHERE id = $1 AND practice_id = $2 AND status <> 'closed'
               AND (claimed_by IS NULL OR claimed_by = $3 OR claimed_at < now() - interval '15 minutes')
            RETURNING 1)
     SELECT (SELECT CASE WHEN claimed_at > now() - interval '15 minutes' THEN claimed_by END FROM before) AS previous,
            (SELECT count(*)::int FROM changed) AS updated`,
    [consultationId, practiceId, staffId],
  );
  const claim = rows[0];
  return claim !== undefined && claim.updated > 0 && claim.previous !== staffId;
}

/** One request in full, with its form's title, who holds it now and its write-back; undefined when not the practice's. */
export async function findConsultation(
  db: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<ConsultationRecord | undefined> {
  const { rows } = await db.query<DetailRow>(
    `SELECT c.id, c.reference, c.kind, c.status, c.priority, c.patient_given_name || ' ' || c.patient_family_name AS patient_name,
       c.assigned_to, c.created_at, floor(extract(epoch FROM now() - c.created_at) / 60)::int AS age_minutes,
       c.patient_birth_date::text AS birth_date, c.patient_nhs_number, c.contact_phone, c.contact_email, c.preferred_contact,
       c.preferred_times, c.submitted_by, c.proxy_name, c.proxy_relationship, c.questionnaire_response,
       q.resource ->> 'title' AS form_title, q.resource AS form_resource, c.outcome_display, c.summary, c.claimed_by, holder.display_name AS claimed_by_name,
       (SELECT w.status FROM write_back w WHERE w.consultation_id = c.id) AS write_back_status, ${dueColumnsOf('c')},
       c.red_flag, c.reply_by::text AS reply_by
     FROM consultation c LEFT JOIN questionnaire q ON q.id = c.questionnaire_id
       LEFT JOIN staff holder ON holder.id = c.claimed_by AND c.claimed_at > now() - interval '15 minutes'
     WHERE c.id = $1 AND c.practice_id = $2`,
    [consultationId, practiceId],
  );
  return rows[0] ? toConsultationRecord(rows[0]) : undefined;
}

/** Whether the request is the practice's. */
export async function consultationExists(
  db: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<boolean> {
  const found = await db.query('SELECT 1 FROM consultation WHERE id = $1 AND practice_id = $2', [
    consultationId,
    practiceId,
  ]);
  return (found.rowCount ?? 0) > 0;
}

/** Locks the request for a change in this transaction; its status, or undefined when not the practice's. */
export async function lockConsultation(
  client: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<ConsultationStatus | undefined> {
  const { rows } = await client.query<{ status: ConsultationStatus }>(
    'SELECT status FROM consultation WHERE id = $1 AND practice_id = $2 FOR UPDATE',
    [consultationId, practiceId],
  );
  return rows[0]?.status;
}

/** What `changeConsultation` sets; absent fields stay as they are, `assignedTo: null` unassigns. */
export interface ConsultationUpdate {
  status?: Exclude<ConsultationStatus, 'closed'> | undefined;
  priority?: ConsultationPriority | undefined;
  assignedTo?: string | null | undefined;
}

/** Assigns, prioritises or moves an open request along (lock it first with `lockConsultation`). */
export async function changeConsultation(
  client: Queryable,
  practiceId: string,
  consultationId: string,
  change: ConsultationUpdate,
): Promise<QueueItem> {
  const { rows } = await client.query<QueueRow>(
    `UPDATE consultation SET
       status = COALESCE($3, status),
       priority = COALESCE($4, priority),
       assigned_to = CASE WHEN $5::boolean THEN $6::uuid ELSE assigned_to END,
       updated_at = now()
     WHERE id = $1 AND practice_id = $2
     RETURNING ${itemColumns}`,
    [
      consultationId,
      practiceId,
      change.status ?? null,
      change.priority ?? null,
      change.assignedTo !== undefined,
      change.assignedTo ?? null,
    ],
  );
  return toQueueItem(rows[0]!);
}

/** The coded outcome and the summary a request is closed with, and who closed it. */
export interface ConsultationClosure {
  outcomeCode: string;
  outcomeDisplay: string;
  summary: string;
  closedBy: string;
}

/** A request just closed, with the patient's NHS number as it stands (its write-back needs it). */
export interface ClosedConsultation {
  item: QueueItem;
  nhsNumber: string | null;
}

/** Closes an open request; undefined when it is closed already or not the practice's. */
export async function closeConsultation(
  client: Queryable,
  practiceId: string,
  consultationId: string,
  closure: ConsultationClosure,
): Promise<ClosedConsultation | undefined> {
  const { rows } = await client.query<QueueRow & { patient_nhs_number: string | null }>(
    `UPDATE consultation SET status = 'closed', outcome_code = $3, outcome_display = $4, summary = $5,
       closed_at = now(), closed_by = $6, updated_at = now()
     WHERE id = $1 AND practice_id = $2 AND status <> 'closed'
     RETURNING ${itemColumns}, patient_nhs_number`,
    [
      consultationId,
      practiceId,
      closure.outcomeCode,
      closure.outcomeDisplay,
      closure.summary,
      closure.closedBy,
    ],
  );
  const row = rows[0];
  return row ? { item: toQueueItem(row), nhsNumber: row.patient_nhs_number } : undefined;
}

/**
 * Locks the request to record the patient's NHS number; the status of its write-back (null when
 * it has none yet), or undefined when the request is not the practice's.
 */
export async function lockForPatientMatch(
  client: Queryable,
  practiceId: string,
  consultationId: string,
): Promise<{ writeBackStatus: WriteBackStatus | null } | undefined> {
  const { rows } = await client.query<{ status: WriteBackStatus | null }>(
    `SELECT w.status FROM consultation c LEFT JOIN write_back w ON w.consultation_id = c.id
      WHERE c.id = $1 AND c.practice_id = $2 FOR UPDATE OF c`,
    [consultationId, practiceId],
  );
  return rows[0] ? { writeBackStatus: rows[0].status } : undefined;
}

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
