import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import { AppError, isValidNhsNumber, WriteBackStatuses, type WriteBackJob } from '@gpc/contracts';
import { allowRoles } from '../auth/staff-auth';
import { withTransaction } from '../db/transaction';
import { ErrorBody } from '../errors';
import type { QueueChange } from '../live';
import { WriteBackView } from './consultations';

export interface WriteBackRoutesDeps {
  pool: pg.Pool;
  /** Queues a write-back again (after a replay or a patient match), replacing a finished job. */
  requeueWriteBack: (job: WriteBackJob) => Promise<void>;
  notify: (practiceId: string, change: QueueChange) => void;
}

const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const NhsNumberBody = Type.Object(
  { nhsNumber: Type.String({ pattern: '^[0-9 ]{10,12}$', description: '10 digits; spaces allowed' }) },
  { additionalProperties: false },
);
const ListQuery = Type.Object(
  {
    status: Type.Union(WriteBackStatuses.map((status) => Type.Literal(status))),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);
const ListItem = Type.Composite([
  Type.Object({
    consultationId: Type.String({ format: 'uuid' }),
    reference: Type.String(),
    patientName: Type.String(),
    closedAt: Type.String({ format: 'date-time' }),
  }),
  WriteBackView,
]);

interface WriteBackRow {
  consultation_id: string;
  reference: string;
  patient_name: string;
  closed_at: Date;
  status: (typeof WriteBackStatuses)[number];
  attempts: number;
  last_error: string | null;
  last_attempt_at: Date | null;
  filed_at: Date | null;
  server_locations: string[] | null;
}

const toView = (row: WriteBackRow) => ({
  status: row.status,
  attempts: row.attempts,
  lastError: row.last_error,
  lastAttemptAt: row.last_attempt_at?.toISOString() ?? null,
  filedAt: row.filed_at?.toISOString() ?? null,
  serverLocations: row.server_locations ?? [],
});

const selectWriteBack = `SELECT w.consultation_id, c.reference, c.patient_given_name || ' ' || c.patient_family_name AS patient_name,
    c.closed_at, w.status, w.attempts, w.last_error, w.last_attempt_at, w.filed_at, w.server_locations
  FROM write_back w JOIN consultation c ON c.id = w.consultation_id`;

/**
 * Summaries on their way into the GP record: what needs a person (a patient to match, a refusal
 * to fix and replay). Every query is scoped to the practice in the caller's token.
 */
export function registerWriteBackRoutes(app: FastifyInstance, deps: WriteBackRoutesDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = deps;

  typed.get(
    '/write-backs',
    {
      preHandler: allowRoles('admin', 'clinician', 'reception'),
      schema: {
        summary: 'Write-backs in one state, oldest first (e.g. the failed ones an admin should look at)',
        querystring: ListQuery,
        response: { 200: Type.Array(ListItem), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const { rows } = await pool.query<WriteBackRow>(
        `${selectWriteBack} WHERE w.practice_id = $1 AND w.status = $2 ORDER BY c.closed_at LIMIT $3`,
        [request.staff.practiceId, request.query.status, request.query.limit],
      );
      return rows.map((row) => ({
        consultationId: row.consultation_id,
        reference: row.reference,
        patientName: row.patient_name,
        closedAt: row.closed_at.toISOString(),
        ...toView(row),
      }));
    },
  );

  typed.put(
    '/consultations/:id/nhs-number',
    {
      preHandler: allowRoles('admin', 'clinician', 'reception'),
      schema: {
        summary: "Record the patient's NHS number (matches the patient, so a waiting summary can be filed)",
        params: IdParams,
        body: NhsNumberBody,
        response: {
          200: Type.Object({ nhsNumber: Type.String(), writeBack: Type.Union([WriteBackView, Type.Null()]) }),
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
      const nhsNumber = request.body.nhsNumber.replace(/\s+/g, '');
      if (!isValidNhsNumber(nhsNumber)) {
        throw new AppError('badRequest', 'That is not a valid NHS number: please check the digits');
      }
      const result = await withTransaction(pool, async (client) => {
        const current = await client.query<{ status: string | null }>(
          `SELECT w.status FROM consultation c LEFT JOIN write_back w ON w.consultation_id = c.id
            WHERE c.id = $1 AND c.practice_id = $2 FOR UPDATE OF c`,
          [request.params.id, practiceId],
        );
        if (!current.rows[0]) throw new AppError('notFound', 'No such request');
        const status = current.rows[0].status;
        // once filed, the record holds it under that number: a correction is made in the GP system
        if (status === 'filed' || status === 'pending') {
          throw new AppError(
            'conflict',
            status === 'filed'
              ? "This summary is already in the patient's GP record under the NHS number it had"
              : 'This summary is being filed under the NHS number it has',
          );
        }
        await client.query(
          'UPDATE consultation SET patient_nhs_number = $3, updated_at = now() WHERE id = $1 AND practice_id = $2',
          [request.params.id, practiceId, nhsNumber],
        );
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, 'set nhs number', 'consultation', $3)`,
          [practiceId, sub, request.params.id],
        );
        const matched = await client.query<WriteBackRow>(
          `UPDATE write_back SET status = 'pending', attempts = 0, last_error = NULL, updated_at = now()
            WHERE consultation_id = $1 AND status = 'needs_patient_match' RETURNING *`,
          [request.params.id],
        );
        return matched.rows[0] ? 'queued' : 'open';
      });
      if (result === 'queued') await requeueSafely(request.params.id, practiceId, request.log);
      deps.notify(practiceId, { consultationId: request.params.id, change: 'updated' });
      const after = await pool.query<WriteBackRow>(`${selectWriteBack} WHERE w.consultation_id = $1`, [
        request.params.id,
      ]);
      return { nhsNumber, writeBack: after.rows[0] ? toView(after.rows[0]) : null };
    },
  );

  typed.post(
    '/consultations/:id/write-back/replay',
    {
      preHandler: allowRoles('admin'),
      schema: {
        summary: 'Send a failed write-back again (after the data or the GP system is fixed)',
        params: IdParams,
        response: { 200: WriteBackView, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const row = await withTransaction(pool, async (client) => {
        const { rows } = await client.query<WriteBackRow>(
          `UPDATE write_back SET status = 'pending', attempts = 0, updated_at = now()
            WHERE consultation_id = $1 AND practice_id = $2 AND status = 'failed'
            RETURNING consultation_id`,
          [request.params.id, practiceId],
        );
        if (!rows[0]) {
          const exists = await client.query<{ status: string }>(
            'SELECT status FROM write_back WHERE consultation_id = $1 AND practice_id = $2',
            [request.params.id, practiceId],
          );
          throw exists.rows[0]
            ? new AppError(
                'conflict',
                `Only a failed write-back can be replayed; this one is ${exists.rows[0].status}`,
              )
            : new AppError('notFound', 'No write-back for this request');
        }
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, 'replay write-back', 'consultation', $3)`,
          [practiceId, sub, request.params.id],
        );
        return rows[0];
      });
      await requeueSafely(row.consultation_id, practiceId, request.log);
      deps.notify(practiceId, { consultationId: request.params.id, change: 'updated' });
      const after = await pool.query<WriteBackRow>(`${selectWriteBack} WHERE w.consultation_id = $1`, [
        request.params.id,
      ]);
      return toView(after.rows[0]!);
    },
  );

  /** The row is pending and committed: if the queue cannot take it now, the worker's sweep will. */
  async function requeueSafely(
    consultationId: string,
    practiceId: string,
    log: { error: (obj: object, msg: string) => void },
  ): Promise<void> {
    try {
      await deps.requeueWriteBack({ consultationId, practiceId });
    } catch (error) {
      log.error({ err: error, consultationId }, 'could not queue the write-back; the sweep will');
    }
  }
}
