import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  CloseConsultationBody,
  ConsultationChange,
  ConsultationDetail,
  ErrorBody,
  IdParams,
  isValidNhsNumber,
  QueueItem,
  QueueQuery,
  type WriteBackJob,
} from '@gpc/contracts';
import { createWriteBack } from '@gpc/record/write-back';
import { requireStaff } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import {
  changeConsultation,
  claimConsultation,
  closeConsultation,
  consultationExists,
  findConsultation,
  isAssignableStaff,
  listConsultationNotifications,
  listQueue,
  lockConsultation,
  type ConsultationClosure,
} from '../db/consultations';
import type { Queryable } from '../db/queryable';
import { withTransaction } from '../db/transaction';
import type { QueueChange } from '../live';

export interface ConsultationRoutesDeps {
  pool: pg.Pool;
  /** Queues a closed consultation's summary for the GP record, once it is committed. */
  queueWriteBack: (job: WriteBackJob) => Promise<void>;
  /** Tells the practice's dashboards that a request changed. */
  notify: (practiceId: string, change: QueueChange) => void;
}

const refusals = { 400: ErrorBody, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody };

/** The practice's queue, under `/consultations`. Every query is scoped to the practice in the caller's token. */
export const consultationRoutes: FastifyPluginCallbackTypebox<ConsultationRoutesDeps> = (app, deps, done) => {
  const { pool } = deps;
  app.addHook('preHandler', requireStaff);

  app.get(
    '',
    {
      schema: {
        summary: 'The queue',
        querystring: QueueQuery,
        response: { 200: Type.Array(QueueItem), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const { assignee, ...filter } = request.query;
      return listQueue(pool, request.staff.practiceId, {
        ...filter,
        ...(assignee === undefined ? {} : { assignee: resolveAssignee(assignee, request.staff.sub) }),
      });
    },
  );

  app.get(
    '/:id',
    {
      schema: {
        summary: 'One request in full',
        params: IdParams,
        response: { 200: ConsultationDetail, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const { id } = request.params;
      // opening a request claims it; colleagues are told only when the holder changes
      if (await claimConsultation(pool, practiceId, id, sub)) {
        deps.notify(practiceId, { consultationId: id, change: 'updated' });
      }
      const consultation = await findConsultation(pool, practiceId, id);
      if (!consultation) throw new AppError('notFound', 'No such request');
      // reading a patient's request is itself an event worth a trail
      await recordAudit(pool, {
        practiceId,
        actor: sub,
        action: 'view',
        entity: 'consultation',
        entityId: id,
      });
      const notifications = await listConsultationNotifications(pool, practiceId, id);
      return { ...consultation, notifications };
    },
  );

  app.patch(
    '/:id',
    {
      schema: {
        summary: 'Assign, prioritise or move a request along',
        params: IdParams,
        body: ConsultationChange,
        response: { 200: QueueItem, ...refusals },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const { id } = request.params;
      const item = await withTransaction(pool, async (client) => {
        await checkChangeable(client, practiceId, id, request.body.assignedTo);
        const changed = await changeConsultation(client, practiceId, id, request.body);
        for (const [field, value] of Object.entries(request.body)) {
          const action = `set ${field}=${value === null ? 'none' : String(value)}`;
          await recordAudit(client, { practiceId, actor: sub, action, entity: 'consultation', entityId: id });
        }
        return changed;
      });
      deps.notify(practiceId, { consultationId: id, change: 'updated' });
      return item;
    },
  );

  app.post(
    '/:id/close',
    {
      config: { roles: ['admin', 'clinician'] },
      schema: {
        summary: 'Close with a coded outcome and a summary for the GP record',
        params: IdParams,
        body: CloseConsultationBody,
        response: { 200: QueueItem, ...refusals },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const { id } = request.params;
      const closure = { ...request.body, closedBy: sub };
      const closed = await withTransaction(pool, (client) =>
        closeWithWriteBack(client, practiceId, id, closure),
      );
      deps.notify(practiceId, { consultationId: id, change: 'closed' });
      if (closed.writeBackStatus === 'pending') {
        await queueWriteBackSafely(deps.queueWriteBack, { consultationId: id, practiceId }, request.log);
      }
      return closed;
    },
  );
  done();
};

/** `assignee` as the queue filter takes it: 'me' is the caller, 'none' is no one. */
function resolveAssignee(assignee: string, staffId: string): string | null {
  if (assignee === 'none') return null;
  return assignee === 'me' ? staffId : assignee;
}

/** Locks an open request for a change, and checks whom it is to be assigned to. */
async function checkChangeable(
  client: Queryable,
  practiceId: string,
  consultationId: string,
  assignedTo: string | null | undefined,
): Promise<void> {
  const status = await lockConsultation(client, practiceId, consultationId);
  if (!status) throw new AppError('notFound', 'No such request');
  if (status === 'closed') throw new AppError('conflict', 'This request is closed');
  if (assignedTo && !(await isAssignableStaff(client, practiceId, assignedTo)))
    throw new AppError('badRequest', 'assignedTo is not a member of this practice');
}

/**
 * Closes the request and opens its write-back in the same transaction: the summary is owed to the
 * GP record from the commit on, whatever happens to the queue. Without a valid NHS number it waits
 * for staff to match the patient.
 */
async function closeWithWriteBack(
  client: Queryable,
  practiceId: string,
  consultationId: string,
  closure: ConsultationClosure,
): Promise<QueueItem> {
  const closed = await closeConsultation(client, practiceId, consultationId, closure);
  if (!closed) {
    throw (await consultationExists(client, practiceId, consultationId))
      ? new AppError('conflict', 'This request is already closed')
      : new AppError('notFound', 'No such request');
  }
  await recordAudit(client, {
    practiceId,
    actor: closure.closedBy,
    action: 'close',
    entity: 'consultation',
    entityId: consultationId,
  });
  const status = closed.nhsNumber && isValidNhsNumber(closed.nhsNumber) ? 'pending' : 'needs_patient_match';
  await createWriteBack(client, { consultationId, practiceId, status });
  return { ...closed.item, writeBackStatus: status };
}

/**
 * Queues a committed write-back. The close stands if the queue cannot take it now: the record
 * worker's sweep queues pending write-backs the queue lacks.
 */
async function queueWriteBackSafely(
  queue: (job: WriteBackJob) => Promise<void>,
  job: WriteBackJob,
  log: FastifyBaseLogger,
): Promise<void> {
  try {
    // after the commit: the job carries only ids and the worker loads what was committed
    await queue(job);
  } catch (error) {
    log.error({ err: error, consultationId: job.consultationId }, 'could not queue the write-back');
  }
}
