import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  refusals,
  IdParams,
  isSentinelNhsNumber,
  isValidNhsNumber,
  NhsNumberBody,
  NhsNumberRecorded,
  WriteBackListItem,
  WriteBackListQuery,
  WriteBackView,
  type StaffTokenClaims,
  type WriteBackJob,
} from '@gpc/contracts';
import { findWriteBack, listWriteBacks, resetForReplay, toWriteBackView } from '@gpc/record/write-back';
import { requireStaff } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import { lockForPatientMatch } from '../db/consultations';
import { oweFreshTrace } from '../db/identity';
import type { Queryable } from '../db/queryable';
import { withTransaction } from '../db/transaction';
import type { QueueChange } from '../live';

export interface WriteBackRoutesDeps {
  pool: pg.Pool;
  /** Queues a write-back again (after a replay or a patient match), replacing a finished job. */
  requeueWriteBack: (job: WriteBackJob) => Promise<void>;
  notify: (practiceId: string, change: QueueChange) => void;
  /** Queues the trace a newly recorded NHS number is owed, at once (absent: tracing is off). */
  queueTrace?: (consultationId: string) => Promise<void>;
}

/** Who does what to which request, for the transitions here to record. */
interface StaffAction {
  practiceId: string;
  staffId: string;
  consultationId: string;
}

const schemas = {
  list: {
    summary: 'Write-backs in one state, oldest first (e.g. the failed ones an admin should look at)',
    querystring: WriteBackListQuery,
    response: { 200: Type.Array(WriteBackListItem), ...refusals(400, 401, 403) },
  },
  nhsNumber: {
    summary:
      "Record the patient's NHS number: it is traced against PDS afresh, and any confirmation of the patient is undone",
    params: IdParams,
    body: NhsNumberBody,
    response: {
      200: NhsNumberRecorded,
      ...refusals(400, 401, 403, 404, 409),
    },
  },
  replay: {
    summary: 'Send a failed write-back again (after the data or the GP system is fixed)',
    params: IdParams,
    response: { 200: WriteBackView, ...refusals(401, 403, 404, 409) },
  },
};

/**
 * Summaries on their way into the GP record: what needs a person (a patient to match, a refusal
 * to fix and replay). The `write_back` rows are `@gpc/record/write-back`'s; every query is scoped
 * to the practice in the caller's token.
 */
export const writeBackRoutes: FastifyPluginCallbackTypebox<WriteBackRoutesDeps> = (app, deps, done) => {
  app.addHook('preHandler', requireStaff);
  app.get('/write-backs', { schema: schemas.list }, (request) =>
    listForStaff(deps.pool, { practiceId: request.staff.practiceId, ...request.query }),
  );
  app.put('/consultations/:id/nhs-number', { schema: schemas.nhsNumber }, (request) =>
    recordNhsNumber(deps, staffAction(request.staff, request.params.id), request.body, request.log),
  );
  app.post(
    '/consultations/:id/write-back/replay',
    { config: { roles: ['admin'] }, schema: schemas.replay },
    (request) => replayWriteBack(deps, staffAction(request.staff, request.params.id), request.log),
  );
  done();
};

const staffAction = (staff: StaffTokenClaims, consultationId: string): StaffAction => ({
  practiceId: staff.practiceId,
  staffId: staff.sub,
  consultationId,
});

/** A practice's write-backs in one status, with the requests they belong to. */
async function listForStaff(
  pool: pg.Pool,
  query: { practiceId: string } & WriteBackListQuery,
): Promise<WriteBackListItem[]> {
  const listed = await listWriteBacks(pool, query);
  return listed.map(({ writeBack, closedAt, ...consultation }) => ({
    ...consultation,
    closedAt: closedAt.toISOString(),
    ...toWriteBackView(writeBack),
  }));
}

/**
 * Records the patient's NHS number and owes it a fresh trace against PDS; a write-back that waited
 * for it waits on, until staff confirm the patient once the trace has verified the number.
 */
async function recordNhsNumber(
  deps: WriteBackRoutesDeps,
  action: StaffAction,
  body: NhsNumberBody,
  log: FastifyBaseLogger,
): Promise<NhsNumberRecorded> {
  const nhsNumber = body.nhsNumber.replace(/\s+/g, '');
  if (isSentinelNhsNumber(nhsNumber)) {
    throw new AppError('badRequest', "That is a placeholder, not a patient's NHS number");
  }
  if (!isValidNhsNumber(nhsNumber)) {
    throw new AppError('badRequest', 'That is not a valid NHS number: please check the digits');
  }
  await withTransaction(deps.pool, (client) => matchPatient(client, action, nhsNumber));
  await deps.queueTrace?.(action.consultationId).catch((error: unknown) => {
    log.warn(
      { err: error, consultationId: action.consultationId },
      'could not queue the trace; the sweep will',
    );
  });
  deps.notify(action.practiceId, { consultationId: action.consultationId, change: 'updated' });
  const writeBack = await findWriteBack(deps.pool, action);
  return { nhsNumber, writeBack: writeBack ? toWriteBackView(writeBack) : null };
}

/** Replays a failed write-back (admins) and queues it again. */
async function replayWriteBack(
  deps: WriteBackRoutesDeps,
  action: StaffAction,
  log: FastifyBaseLogger,
): Promise<WriteBackView> {
  await withTransaction(deps.pool, (client) => replay(client, action));
  await queueWriteBackSafely(deps.requeueWriteBack, action, log);
  deps.notify(action.practiceId, { consultationId: action.consultationId, change: 'updated' });
  const writeBack = await findWriteBack(deps.pool, action);
  if (!writeBack) throw new AppError('notFound', 'No write-back for this request');
  return toWriteBackView(writeBack);
}

/**
 * Queues a committed write-back (after the close, a patient match or a replay). If the queue cannot
 * take it now, the write-back stands, pending: the record worker's sweep queues it.
 */
export async function queueWriteBackSafely(
  queue: (job: WriteBackJob) => Promise<void>,
  job: WriteBackJob,
  log: FastifyBaseLogger,
): Promise<void> {
  try {
    // the job carries only ids and the worker loads what was committed
    await queue({ consultationId: job.consultationId, practiceId: job.practiceId });
  } catch (error) {
    log.error(
      { err: error, consultationId: job.consultationId },
      'could not queue the write-back; the sweep will',
    );
  }
}

/**
 * Records the patient's NHS number on the request, undoing any confirmation of who the patient is
 * and owing a fresh trace: the write-back is not released here ("Confirm patient" does that).
 */
async function matchPatient(client: Queryable, action: StaffAction, nhsNumber: string): Promise<void> {
  const { practiceId, staffId, consultationId } = action;
  const locked = await lockForPatientMatch(client, practiceId, consultationId);
  if (!locked) throw new AppError('notFound', 'No such request');
  // once filed, the record holds it under that number: a correction is made in the GP system
  if (locked.writeBackStatus === 'filed')
    throw new AppError(
      'conflict',
      "This summary is already in the patient's GP record under the NHS number it had",
    );
  if (locked.writeBackStatus === 'pending')
    throw new AppError('conflict', 'This summary is being filed under the NHS number it has');
  await oweFreshTrace(client, { practiceId, consultationId, nhsNumber });
  await recordAudit(client, {
    practiceId,
    actor: staffId,
    action: 'set nhs number',
    entity: 'consultation',
    entityId: consultationId,
  });
}

/** A write-back that failed or needs attention back to pending, for an admin who fixed what it failed on. */
async function replay(client: Queryable, action: StaffAction): Promise<void> {
  const reset = await resetForReplay(client, action);
  if (reset.outcome === 'none') throw new AppError('notFound', 'No write-back for this request');
  if (reset.outcome === 'not-failed')
    throw new AppError(
      'conflict',
      `Only a write-back that failed or needs attention can be sent again; this one is ${reset.status}`,
    );
  await recordAudit(client, {
    practiceId: action.practiceId,
    actor: action.staffId,
    action: 'replay write-back',
    entity: 'consultation',
    entityId: action.consultationId,
  });
}
