import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  CloseConsultationBody,
  CloseRefusal,
  ConsultationChange,
  ConsultationDetail,
  refusals,
  IdParams,
  isValidNhsNumber,
  OverdueCount,
  QueueItem,
  QueueQuery,
  type StaffTokenClaims,
  type WriteBackJob,
} from '@gpc/contracts';
import { createWriteBack, findWriteBack, toWriteBackView } from '@gpc/record/write-back';
import { requireStaff } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import {
  changeConsultation,
  claimConsultation,
  closeConsultation,
  consultationExists,
  countOverdue,
  findConsultation,
  listQueue,
  lockConsultation,
  type ConsultationClosure,
  type QueueFilter,
} from '../db/consultations';
import { listNotifications } from '../db/notifications';
import { findIdentity, isIdentityConfirmed } from '../db/identity';
import { toIdentityView } from '../identity/view';
import { isAssignableStaff } from '../db/staff';
import { freezeSummaryVersion } from '../db/summary-versions';
import type { Queryable } from '../db/queryable';
import { withTransaction } from '../db/transaction';
import type { QueueChange } from '../live';
import { checkRepliesSeen, UnseenRepliesError } from '../unseen-replies';
import { queueWriteBackSafely } from './write-back';

export interface ConsultationRoutesDeps {
  pool: pg.Pool;
  /** Queues a closed consultation's summary for the GP record, once it is committed. */
  queueWriteBack: (job: WriteBackJob) => Promise<void>;
  /** Tells the practice's dashboards that a request changed. */
  notify: (practiceId: string, change: QueueChange) => void;
}

const schemas = {
  queue: {
    summary: 'The queue',
    querystring: QueueQuery,
    response: { 200: Type.Array(QueueItem), ...refusals(400, 401, 403) },
  },
  overdue: {
    summary: 'How many open requests are past their response target',
    response: { 200: OverdueCount, ...refusals(401, 403) },
  },
  detail: {
    summary: 'One request in full',
    params: IdParams,
    response: { 200: ConsultationDetail, ...refusals(401, 403, 404) },
  },
  change: {
    summary: 'Assign, prioritise or move a request along',
    params: IdParams,
    body: ConsultationChange,
    response: { 200: QueueItem, ...refusals(400, 401, 403, 404, 409) },
  },
  close: {
    summary: 'Close with a coded outcome and a summary for the GP record',
    params: IdParams,
    body: CloseConsultationBody,
    response: { 200: QueueItem, ...refusals(400, 401, 403, 404), 409: CloseRefusal },
  },
};

/** The signed-in member of staff a route acts for. */
type Staff = Pick<StaffTokenClaims, 'practiceId' | 'sub'>;

/** The practice's queue, under `/consultations`. Every query is scoped to the practice in the caller's token. */
export const consultationRoutes: FastifyPluginCallbackTypebox<ConsultationRoutesDeps> = (app, deps, done) => {
  app.addHook('preHandler', requireStaff);
  app.get('', { schema: schemas.queue }, (request) =>
    listQueue(deps.pool, request.staff.practiceId, queueFilter(request.query, request.staff.sub)),
  );
  app.get('/overdue', { schema: schemas.overdue }, async (request) => ({
    overdue: await countOverdue(deps.pool, request.staff.practiceId),
  }));
  app.get('/:id', { schema: schemas.detail }, (request) =>
    openConsultation(deps, request.staff, request.params.id),
  );
  app.patch('/:id', { schema: schemas.change }, (request) =>
    changeAndTell(deps, request.staff, request.params.id, request.body),
  );
  app.post(
    '/:id/close',
    { config: { roles: ['admin', 'clinician'] }, schema: schemas.close },
    async (request, reply) => {
      try {
        return await closeAndQueue(deps, request.staff, request.params.id, request.body, request.log);
      } catch (error) {
        // the one refusal whose body carries more than words: the replies the closer has not seen
        if (error instanceof UnseenRepliesError) return reply.code(409).send(error.body);
        throw error;
      }
    },
  );
  done();
};

/** The queue's filters from its query string: `assignee` 'me' is the caller, 'none' is no one. */
function queueFilter(query: QueueQuery, staffId: string): QueueFilter {
  const { assignee, ...filter } = query;
  if (assignee === undefined) return filter;
  if (assignee === 'none') return { ...filter, assignee: null };
  return { ...filter, assignee: assignee === 'me' ? staffId : assignee };
}

/**
 * One request in full. Opening it claims it (colleagues are told only when the holder changes),
 * and reading a patient's request is itself an event worth a trail.
 */
async function openConsultation(
  deps: ConsultationRoutesDeps,
  staff: Staff,
  consultationId: string,
): Promise<ConsultationDetail> {
  const { pool } = deps;
  const { practiceId, sub } = staff;
  if (await claimConsultation(pool, practiceId, consultationId, sub)) {
    deps.notify(practiceId, { consultationId, change: 'updated' });
  }
  const consultation = await findConsultation(pool, practiceId, consultationId);
  if (!consultation) throw new AppError('notFound', 'No such request');
  await recordAudit(pool, {
    practiceId,
    actor: sub,
    action: 'view',
    entity: 'consultation',
    entityId: consultationId,
  });
  const [notifications, writeBack, identity] = await Promise.all([
    listNotifications(pool, consultationId, practiceId),
    findWriteBack(pool, { consultationId, practiceId }),
    findIdentity(pool, practiceId, consultationId),
  ]);
  if (!identity) throw new AppError('notFound', 'No such request');
  return {
    ...consultation,
    notifications,
    writeBack: writeBack ? toWriteBackView(writeBack) : null,
    identity: toIdentityView(identity),
  };
}

/** Assigns, prioritises or moves an open request along, audits each field set, and tells the dashboards. */
async function changeAndTell(
  deps: ConsultationRoutesDeps,
  staff: Staff,
  consultationId: string,
  change: ConsultationChange,
): Promise<QueueItem> {
  const { practiceId, sub } = staff;
  const item = await withTransaction(deps.pool, async (client) => {
    await checkChangeable(client, practiceId, consultationId, change.assignedTo);
    const changed = await changeConsultation(client, practiceId, consultationId, change);
    for (const [field, value] of Object.entries(change)) {
      const action = `set ${field}=${value === null ? 'none' : String(value)}`;
      await recordAudit(client, {
        practiceId,
        actor: sub,
        action,
        entity: 'consultation',
        entityId: consultationId,
      });
    }
    return changed;
  });
  deps.notify(practiceId, { consultationId, change: 'updated' });
  return item;
}

/** Closes the request with its write-back, tells the dashboards, and queues the write-back once committed. */
async function closeAndQueue(
  deps: ConsultationRoutesDeps,
  staff: Staff,
  consultationId: string,
  body: CloseConsultationBody,
  log: FastifyBaseLogger,
): Promise<QueueItem> {
  const { practiceId } = staff;
  const closure = { ...body, closedBy: staff.sub };
  const closed = await withTransaction(deps.pool, (client) =>
    closeWithWriteBack(client, practiceId, consultationId, closure),
  );
  deps.notify(practiceId, { consultationId, change: 'closed' });
  if (closed.writeBackStatus === 'pending') {
    await queueWriteBackSafely(deps.queueWriteBack, { consultationId, practiceId }, log);
  }
  return closed;
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
  await checkRepliesSeen(client, practiceId, consultationId, closure.closedBy);
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
  // the filing gate (helper-a): pending only when identity is confirmed for the number the request has now
  const status =
    closed.nhsNumber &&
    isValidNhsNumber(closed.nhsNumber) &&
    (await isIdentityConfirmed(client, consultationId))
      ? 'pending'
      : 'needs_patient_match';
  // what the clinician saw, frozen with the close: the write-back files this version and nothing else
  const version = await freezeSummaryVersion(client, practiceId, consultationId);
  await createWriteBack(client, { consultationId, practiceId, status, summaryVersionId: version.id });
  return { ...closed.item, writeBackStatus: status };
}
