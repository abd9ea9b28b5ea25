import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  ErrorBody,
  IdParams,
  isValidNhsNumber,
  NhsNumberBody,
  NhsNumberRecorded,
  WriteBackListItem,
  WriteBackListQuery,
  WriteBackView,
  type WriteBackJob,
} from '@gpc/contracts';
import {
  findWriteBack,
  listWriteBacks,
  resetForReplay,
  resumeAfterPatientMatch,
  toWriteBackView,
} from '@gpc/record/write-back';
import { requireStaff } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import { lockForPatientMatch, setPatientNhsNumber } from '../db/consultations';
import type { Queryable } from '../db/queryable';
import { withTransaction } from '../db/transaction';
import type { QueueChange } from '../live';

export interface WriteBackRoutesDeps {
  pool: pg.Pool;
  /** Queues a write-back again (after a replay or a patient match), replacing a finished job. */
  requeueWriteBack: (job: WriteBackJob) => Promise<void>;
  notify: (practiceId: string, change: QueueChange) => void;
}

/** Who does what to which request, for the transitions here to record. */
interface StaffAction {
  practiceId: string;
  staffId: string;
  consultationId: string;
}

/**
 * Summaries on their way into the GP record: what needs a person (a patient to match, a refusal
 * to fix and replay). The `write_back` rows are `@gpc/record/write-back`'s; every query is scoped
 * to the practice in the caller's token.
 */
export const writeBackRoutes: FastifyPluginCallbackTypebox<WriteBackRoutesDeps> = (app, deps, done) => {
  const { pool } = deps;
  app.addHook('preHandler', requireStaff);

  app.get(
    '/write-backs',
    {
      schema: {
        summary: 'Write-backs in one state, oldest first (e.g. the failed ones an admin should look at)',
        querystring: WriteBackListQuery,
        response: { 200: Type.Array(WriteBackListItem), 400: ErrorBody, 401: ErrorBody, 403: ErrorBody },
      },
    },
    async (request) => {
      const listed = await listWriteBacks(pool, { practiceId: request.staff.practiceId, ...request.query });
      return listed.map(({ writeBack, closedAt, ...consultation }) => ({
        ...consultation,
        closedAt: closedAt.toISOString(),
        ...toWriteBackView(writeBack),
      }));
    },
  );

  app.put(
    '/consultations/:id/nhs-number',
    {
      schema: {
        summary: "Record the patient's NHS number (matches the patient, so a waiting summary can be filed)",
        params: IdParams,
        body: NhsNumberBody,
        response: {
          200: NhsNumberRecorded,
          400: ErrorBody,
          401: ErrorBody,
          403: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (request) => {
      const action = {
        practiceId: request.staff.practiceId,
        staffId: request.staff.sub,
        consultationId: request.params.id,
      };
      const nhsNumber = request.body.nhsNumber.replace(/\s+/g, '');
      if (!isValidNhsNumber(nhsNumber)) {
        throw new AppError('badRequest', 'That is not a valid NHS number: please check the digits');
      }
      const resumed = await withTransaction(pool, (client) => matchPatient(client, action, nhsNumber));
      if (resumed) await requeueSafely(action, request.log);
      deps.notify(action.practiceId, { consultationId: action.consultationId, change: 'updated' });
      const writeBack = await findWriteBack(pool, action);
      return { nhsNumber, writeBack: writeBack ? toWriteBackView(writeBack) : null };
    },
  );

  app.post(
    '/consultations/:id/write-back/replay',
    {
      config: { roles: ['admin'] },
      schema: {
        summary: 'Send a failed write-back again (after the data or the GP system is fixed)',
        params: IdParams,
        response: { 200: WriteBackView, 401: ErrorBody, 403: ErrorBody, 404: ErrorBody, 409: ErrorBody },
      },
    },
    async (request) => {
      const action = {
        practiceId: request.staff.practiceId,
        staffId: request.staff.sub,
        consultationId: request.params.id,
      };
      await withTransaction(pool, (client) => replay(client, action));
      await requeueSafely(action, request.log);
      deps.notify(action.practiceId, { consultationId: action.consultationId, change: 'updated' });
      const writeBack = await findWriteBack(pool, action);
      if (!writeBack) throw new AppError('notFound', 'No write-back for this request');
      return toWriteBackView(writeBack);
    },
  );

  /** The row is pending and committed: if the queue cannot take it now, the worker's sweep will. */
  async function requeueSafely(job: WriteBackJob, log: FastifyBaseLogger): Promise<void> {
    try {
      await deps.requeueWriteBack({ consultationId: job.consultationId, practiceId: job.practiceId });
    } catch (error) {
      log.error(
        { err: error, consultationId: job.consultationId },
        'could not queue the write-back; the sweep will',
      );
    }
  }
  done();
};

/**
 * Records the patient's NHS number on the request and releases a write-back that waited for it.
 * True when one was released (pending again, to be queued).
 */
async function matchPatient(client: Queryable, action: StaffAction, nhsNumber: string): Promise<boolean> {
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
  await setPatientNhsNumber(client, practiceId, consultationId, nhsNumber);
  await recordAudit(client, {
    practiceId,
    actor: staffId,
    action: 'set nhs number',
    entity: 'consultation',
    entityId: consultationId,
  });
  return resumeAfterPatientMatch(client, consultationId);
}

/** A failed write-back back to pending, for an admin who fixed what it failed on. */
async function replay(client: Queryable, action: StaffAction): Promise<void> {
  const reset = await resetForReplay(client, action);
  if (reset.outcome === 'none') throw new AppError('notFound', 'No write-back for this request');
  if (reset.outcome === 'not-failed')
    throw new AppError('conflict', `Only a failed write-back can be replayed; this one is ${reset.status}`);
  await recordAudit(client, {
    practiceId: action.practiceId,
    actor: action.staffId,
    action: 'replay write-back',
    entity: 'consultation',
    entityId: action.consultationId,
  });
}
