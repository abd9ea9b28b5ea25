import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import type pg from 'pg';
import { AppError, isValidNhsNumber, WriteBackStatuses, type WriteBackJob } from '@gpc/contracts';
import { allowRoles } from '../auth/staff-auth';
import { withTransaction } from '../db/transaction';
import {
  NotificationView,
  notificationColumns,
  toNotificationView,
  type NotificationRow,
} from '../notifications/view';
import { ErrorBody } from '../errors';
import type { QueueChange } from '../live';

const Status = Type.Union([
  Type.Literal('new'),
  Type.Literal('in_progress'),
  Type.Literal('awaiting_patient'),
  Type.Literal('closed'),
]);
const Priority = Type.Union([Type.Literal('urgent'), Type.Literal('soon'), Type.Literal('routine')]);
const Kind = Type.Union([Type.Literal('medical'), Type.Literal('admin')]);
const Uuid = Type.String({ format: 'uuid' });
const WriteBackStatus = Type.Union(WriteBackStatuses.map((status) => Type.Literal(status)));

const QueueItem = Type.Object({
  id: Uuid,
  reference: Type.String(),
  kind: Kind,
  status: Status,
  priority: Priority,
  patientName: Type.String(),
  assignedTo: Type.Union([Uuid, Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  ageMinutes: Type.Integer(),
  /** Where a closed request's summary stands on its way into the GP record; null while open. */
  writeBackStatus: Type.Union([WriteBackStatus, Type.Null()]),
});
const QueueQuery = Type.Object(
  {
    status: Type.Optional(Status),
    priority: Type.Optional(Priority),
    kind: Type.Optional(Kind),
    assignee: Type.Optional(Type.Union([Type.Literal('me'), Type.Literal('none'), Uuid])),
    olderThanMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 525_600 })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);
const Change = Type.Object(
  {
    status: Type.Optional(
      Type.Union([Type.Literal('new'), Type.Literal('in_progress'), Type.Literal('awaiting_patient')]),
    ),
    priority: Type.Optional(Priority),
    assignedTo: Type.Optional(Type.Union([Uuid, Type.Null()])),
  },
  { additionalProperties: false, minProperties: 1 },
);
const Close = Type.Object(
  {
    // SNOMED CT concept id of the outcome
    outcomeCode: Type.String({ pattern: '^[0-9]{6,18}$' }),
    outcomeDisplay: Type.String({ minLength: 1, maxLength: 200 }),
    summary: Type.String({ minLength: 1, maxLength: 20_000 }),
  },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Uuid });
const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
export const WriteBackView = Type.Object({
  status: WriteBackStatus,
  attempts: Type.Integer(),
  /** The GP system's own words when it refused, or what went wrong on the way. */
  lastError: Nullable(Type.String()),
  lastAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  filedAt: Nullable(Type.String({ format: 'date-time' })),
  /** Where the GP system filed each resource. */
  serverLocations: Type.Array(Type.String()),
});
const Detail = Type.Composite([
  QueueItem,
  Type.Object({
    birthDate: Type.String(),
    nhsNumber: Nullable(Type.String()),
    contact: Type.Object({
      phone: Nullable(Type.String()),
      email: Nullable(Type.String()),
      preferred: Nullable(Type.String()),
      times: Nullable(Type.String()),
    }),
    submittedBy: Nullable(Type.Object({ name: Type.String(), relationship: Type.String() })),
    formTitle: Nullable(Type.String()),
    answers: Nullable(Type.Object({}, { additionalProperties: true })),
    outcome: Nullable(Type.String()),
    summary: Nullable(Type.String()),
    /** Who has the request open now (within 15 minutes). */
    claimedBy: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
    writeBack: Nullable(WriteBackView),
    /** Links sent to the patient by email or text, newest last, with where each stands. */
    notifications: Type.Array(NotificationView),
  }),
]);

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
  outcome_display: string | null;
  summary: string | null;
  claimed_by: string | null;
  claimed_by_name: string | null;
  wb_attempts: number | null;
  wb_last_error: string | null;
  wb_last_attempt_at: Date | null;
  wb_filed_at: Date | null;
  wb_server_locations: string[] | null;
}

interface QueueRow {
  id: string;
  reference: string;
  kind: Static<typeof Kind>;
  status: Static<typeof Status>;
  priority: Static<typeof Priority>;
  patient_name: string;
  assigned_to: string | null;
  created_at: Date;
  age_minutes: number;
  write_back_status: Static<typeof WriteBackStatus> | null;
}

const toItem = (row: QueueRow): Static<typeof QueueItem> => ({
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
});

/** A queue item's columns, for SELECT and for RETURNING. */
const itemColumns = `id, reference, kind, status, priority, patient_given_name || ' ' || patient_family_name AS patient_name,
  assigned_to, created_at, floor(extract(epoch FROM now() - created_at) / 60)::int AS age_minutes,
  (SELECT w.status FROM write_back w WHERE w.consultation_id = consultation.id) AS write_back_status`;
const selectItem = `SELECT ${itemColumns} FROM consultation`;

export interface ConsultationRoutesDeps {
  pool: pg.Pool;
  /** Queues a closed consultation's summary for the GP record, once it is committed. */
  queueWriteBack: (job: WriteBackJob) => Promise<void>;
  /** Tells the practice's dashboards that a request changed. */
  notify: (practiceId: string, change: QueueChange) => void;
}

/** The practice's queue. Every query is scoped to the practice in the caller's token. */
export function registerConsultationRoutes(app: FastifyInstance, deps: ConsultationRoutesDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = deps;
  const anyStaff = allowRoles('admin', 'clinician', 'reception');

  typed.get(
    '/consultations',
    {
      preHandler: anyStaff,
      schema: {
        summary: 'The queue',
        querystring: QueueQuery,
        response: { 200: Type.Array(QueueItem), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const { status, priority, kind, assignee, olderThanMinutes, limit } = request.query;
      const where = ['practice_id = $1'];
      const values: unknown[] = [request.staff.practiceId];
      const add = (clause: string, value: unknown) => {
        values.push(value);
        where.push(clause.replace('?', `$${values.length}`));
      };
      if (status) add('status = ?', status);
      if (priority) add('priority = ?', priority);
      if (kind) add('kind = ?', kind);
      if (assignee === 'none') where.push('assigned_to IS NULL');
      else if (assignee) add('assigned_to = ?', assignee === 'me' ? request.staff.sub : assignee);
      if (olderThanMinutes !== undefined)
        add(`created_at < now() - make_interval(mins => ?)`, olderThanMinutes);
      values.push(limit);
      const { rows } = await pool.query<QueueRow>(
        `${selectItem} WHERE ${where.join(' AND ')}
          ORDER BY priority_rank, created_at LIMIT $${values.length}`,
        values,
      );
      return rows.map(toItem);
    },
  );

  typed.get(
    '/consultations/:id',
    {
      preHandler: anyStaff,
      schema: {
        summary: 'One request in full',
        params: IdParams,
        response: { 200: Detail, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      // opening a request claims it, unless a colleague opened it in the last 15 minutes; colleagues
      // are told only when the holder changes (re-opening your own must not ring every dashboard)
      const claimed = await pool.query<{ previous: string | null; updated: number }>(
        `WITH before AS (SELECT claimed_by, claimed_at FROM consultation WHERE id = $1 AND practice_id = $2),
              changed AS (
                UPDATE consultation SET claimed_by = $3, claimed_at = now()
                 WHERE id = $1 AND practice_id = $2 AND status <> 'closed'
                   AND (claimed_by IS NULL OR claimed_by = $3 OR claimed_at < now() - interval '15 minutes')
                RETURNING 1)
         SELECT (SELECT CASE WHEN claimed_at > now() - interval '15 minutes' THEN claimed_by END FROM before) AS previous,
                (SELECT count(*)::int FROM changed) AS updated`,
        [request.params.id, practiceId, sub],
      );
      const claim = claimed.rows[0];
      if (claim && claim.updated > 0 && claim.previous !== sub) {
        deps.notify(practiceId, { consultationId: request.params.id, change: 'updated' });
      }
      const { rows } = await pool.query<DetailRow>(
        `SELECT c.id, c.reference, c.kind, c.status, c.priority, c.patient_given_name || ' ' || c.patient_family_name AS patient_name,
           c.assigned_to, c.created_at, floor(extract(epoch FROM now() - c.created_at) / 60)::int AS age_minutes,
           c.patient_birth_date::text AS birth_date, c.patient_nhs_number, c.contact_phone, c.contact_email, c.preferred_contact,
           c.preferred_times, c.submitted_by, c.proxy_name, c.proxy_relationship, c.questionnaire_response,
           q.resource ->> 'title' AS form_title, c.outcome_display, c.summary, c.claimed_by, holder.display_name AS claimed_by_name,
           w.status AS write_back_status, w.attempts AS wb_attempts, w.last_error AS wb_last_error,
           w.last_attempt_at AS wb_last_attempt_at, w.filed_at AS wb_filed_at, w.server_locations AS wb_server_locations
         FROM consultation c LEFT JOIN questionnaire q ON q.id = c.questionnaire_id
           LEFT JOIN staff holder ON holder.id = c.claimed_by AND c.claimed_at > now() - interval '15 minutes'
           LEFT JOIN write_back w ON w.consultation_id = c.id
         WHERE c.id = $1 AND c.practice_id = $2`,
        [request.params.id, practiceId],
      );
      const row = rows[0];
      if (!row) throw new AppError('notFound', 'No such request');
      // reading a patient's request is itself an event worth a trail
      await pool.query(
        `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, 'view', 'consultation', $3)`,
        [practiceId, sub, row.id],
      );
      const notifications = await pool.query<NotificationRow>(
        `SELECT ${notificationColumns} FROM notification WHERE consultation_id = $1 AND practice_id = $2 ORDER BY created_at`,
        [row.id, practiceId],
      );
      return {
        ...toItem(row),
        notifications: notifications.rows.map(toNotificationView),
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
        answers: row.questionnaire_response,
        outcome: row.outcome_display,
        summary: row.summary,
        claimedBy:
          row.claimed_by && row.claimed_by_name ? { id: row.claimed_by, name: row.claimed_by_name } : null,
        writeBack: row.write_back_status
          ? {
              status: row.write_back_status,
              attempts: row.wb_attempts ?? 0,
              lastError: row.wb_last_error,
              lastAttemptAt: row.wb_last_attempt_at?.toISOString() ?? null,
              filedAt: row.wb_filed_at?.toISOString() ?? null,
              serverLocations: row.wb_server_locations ?? [],
            }
          : null,
      };
    },
  );

  typed.patch(
    '/consultations/:id',
    {
      preHandler: anyStaff,
      schema: {
        summary: 'Assign, prioritise or move a request along',
        params: IdParams,
        body: Change,
        response: {
          200: QueueItem,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const item = await withTransaction(pool, async (client) => {
        const current = await client.query<{ status: string }>(
          'SELECT status FROM consultation WHERE id = $1 AND practice_id = $2 FOR UPDATE',
          [request.params.id, practiceId],
        );
        if (!current.rows[0]) throw new AppError('notFound', 'No such request');
        if (current.rows[0].status === 'closed') throw new AppError('conflict', 'This request is closed');
        const { status, priority, assignedTo } = request.body;
        if (assignedTo) {
          const colleague = await client.query(
            'SELECT 1 FROM staff WHERE id = $1 AND practice_id = $2 AND active',
            [assignedTo, practiceId],
          );
          if (colleague.rowCount === 0)
            throw new AppError('badRequest', 'assignedTo is not a member of this practice');
        }
        const { rows } = await client.query<QueueRow>(
          `UPDATE consultation SET
             status = COALESCE($3, status),
             priority = COALESCE($4, priority),
             assigned_to = CASE WHEN $5::boolean THEN $6::uuid ELSE assigned_to END,
             updated_at = now()
           WHERE id = $1 AND practice_id = $2
           RETURNING ${itemColumns}`,
          [
            request.params.id,
            practiceId,
            status ?? null,
            priority ?? null,
            assignedTo !== undefined,
            assignedTo ?? null,
          ],
        );
        for (const [field, value] of Object.entries(request.body)) {
          await client.query(
            `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, $3, 'consultation', $4)`,
            [practiceId, sub, `set ${field}=${value === null ? 'none' : String(value)}`, request.params.id],
          );
        }
        return toItem(rows[0]!);
      });
      deps.notify(practiceId, { consultationId: request.params.id, change: 'updated' });
      return item;
    },
  );

  typed.post(
    '/consultations/:id/close',
    {
      preHandler: allowRoles('admin', 'clinician'),
      schema: {
        summary: 'Close with a coded outcome and a summary for the GP record',
        params: IdParams,
        body: Close,
        response: {
          200: QueueItem,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const { outcomeCode, outcomeDisplay, summary } = request.body;
      const closed = await withTransaction(pool, async (client) => {
        const { rows } = await client.query<QueueRow>(
          `UPDATE consultation SET status = 'closed', outcome_code = $3, outcome_display = $4, summary = $5,
             closed_at = now(), closed_by = $6, updated_at = now()
           WHERE id = $1 AND practice_id = $2 AND status <> 'closed'
           RETURNING ${itemColumns}`,
          [request.params.id, practiceId, outcomeCode, outcomeDisplay, summary, sub],
        );
        const row = rows[0];
        if (!row) {
          const exists = await client.query('SELECT 1 FROM consultation WHERE id = $1 AND practice_id = $2', [
            request.params.id,
            practiceId,
          ]);
          throw exists.rowCount
            ? new AppError('conflict', 'This request is already closed')
            : new AppError('notFound', 'No such request');
        }
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, 'close', 'consultation', $3)`,
          [practiceId, sub, request.params.id],
        );
        // the outbox row commits with the close: the summary is owed to the GP record from now on,
        // whatever happens to the queue. Without a valid NHS number it waits for staff to match the patient.
        const nhs = await client.query<{ patient_nhs_number: string | null }>(
          'SELECT patient_nhs_number FROM consultation WHERE id = $1',
          [request.params.id],
        );
        const number = nhs.rows[0]?.patient_nhs_number;
        const status = number && isValidNhsNumber(number) ? 'pending' : 'needs_patient_match';
        await client.query(
          `INSERT INTO write_back (consultation_id, practice_id, status) VALUES ($1, $2, $3)
           ON CONFLICT (consultation_id) DO NOTHING`,
          [request.params.id, practiceId, status],
        );
        return { ...row, write_back_status: status } satisfies QueueRow;
      });
      deps.notify(practiceId, { consultationId: closed.id, change: 'closed' });
      if (closed.write_back_status === 'pending') {
        // after the commit: the job carries only ids and the worker loads what was committed
        try {
          await deps.queueWriteBack({ consultationId: closed.id, practiceId });
        } catch (error) {
          // the close stands: the record worker's sweep queues pending write-backs the queue lacks
          request.log.error({ err: error, consultationId: closed.id }, 'could not queue the write-back');
        }
      }
      return toItem(closed);
    },
  );
}
