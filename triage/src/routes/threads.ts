import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  refusals,
  PatientReplyBody,
  PatientReplySent,
  ThreadMessage,
  ThreadUnlockBody,
  ThreadUnlocked,
  UploadGrant,
  UploadRequest,
  type ThreadMessage as ThreadMessageView,
} from '@gpc/contracts';
import { replyUrgentAdvice } from '@gpc/contracts/forms/reply-urgency';
import { verifyUploads, type AttachmentStore, type VerifiedUpload } from '../attachments/store';
import { recordAudit } from '../db/audit';
import { lockConsultation } from '../db/consultations';
import {
  clearWrongBirthDates,
  insertPatientMessage,
  listMessages,
  lockThreadAccess,
  recordWrongBirthDate,
} from '../db/messages';
import type { Queryable } from '../db/queryable';
import { insertAttachments } from '../db/attachments';
import { returnToStaffAfterReply } from '../db/consultations';
import { findPracticeSettings } from '../db/practices';
import { withTransaction } from '../db/transaction';
import type { QueueChange } from '../live';
import { practiceClosedNotice } from '../reply-hours';
import {
  signThreadSession,
  threadLinkInvalid,
  verifyThreadLink,
  verifyThreadSession,
  type ThreadRef,
  type ThreadSessionClaims,
} from '../thread-tokens';

const maxTries = 5;
const lockMinutes = 30;
declare module 'fastify' {
  interface FastifyRequest {
    /** The patient's unlocked thread; set by the thread session guard. */
    threadSession: ThreadSessionClaims;
  }
}

export interface PatientThreadRoutesDeps {
  pool: pg.Pool;
  /** Where patients' photos go; without it, replies cannot carry photos. */
  attachments?: AttachmentStore;
  notify: (practiceId: string, change: QueueChange) => void;
  /** The clock for the practice's opening hours (tests set it). */
  now: () => Date;
}

/**
 * The patient's side of a thread, under `/threads` (no staff sign-in): they open it with the signed
 * link and their date of birth (locked after five wrong tries), then read and reply with the
 * short session that gives them.
 */
export const patientThreadRoutes: FastifyPluginCallbackTypebox<PatientThreadRoutesDeps> = (
  app,
  deps,
  done,
) => {
  app.post(
    '/unlock',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'A patient opens their thread with the link and their date of birth (public)',
        body: ThreadUnlockBody,
        response: { 200: ThreadUnlocked, ...refusals(400, 401, 429) },
      },
    },
    async (request) => {
      const thread = verifyThreadLink(app, request.body.token);
      const reference = await checkBirthDate(deps.pool, thread, request.body.birthDate);
      return { sessionToken: signThreadSession(app, thread), reference };
    },
  );
  // the deps alone: the options also carry this plugin's prefix, which the child inherits anyway
  const { pool, attachments, notify, now } = deps;
  void app.register(unlockedThreadRoutes, { pool, notify, now, ...(attachments ? { attachments } : {}) });
  done();
};

/** What the patient does in an unlocked thread: every route needs the thread session. */
const unlockedThreadRoutes: FastifyPluginCallbackTypebox<PatientThreadRoutesDeps> = (app, deps, done) => {
  app.decorateRequest('threadSession', null as unknown as ThreadSessionClaims);
  app.addHook('preHandler', (request, _reply, next) => {
    request.threadSession = verifyThreadSession(app, request);
    next();
  });

  app.post(
    '/uploads',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'Permission to upload a photo to go with a reply',
        body: UploadRequest,
        response: { 201: UploadGrant, ...refusals(400, 401) },
      },
    },
    async (request, reply) => {
      if (!deps.attachments) throw new AppError('badRequest', 'Photos cannot be sent here');
      const key = deps.attachments.newUploadKey(request.threadSession.practiceId);
      const url = await deps.attachments.uploadUrl(key, request.body.contentType, request.body.size);
      return reply.code(201).send({ key, url, headers: { 'content-type': request.body.contentType } });
    },
  );

  app.get(
    '/messages',
    {
      schema: {
        summary: 'The patient reads their thread',
        response: { 200: Type.Array(ThreadMessage), ...refusals(401) },
      },
    },
    async (request) => listMessages(deps.pool, request.threadSession.consultationId),
  );

  app.post(
    '/messages',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'The patient replies, having answered that it is not urgent; told when it will be read',
        body: PatientReplyBody,
        response: { 201: PatientReplySent, ...refusals(400, 401, 409, 422) },
      },
    },
    async (request, reply) => {
      const { consultationId, practiceId } = request.threadSession;
      // nobody reads a reply at once: a patient who needs help now is told where to get it instead
      if (request.body.urgent) throw new AppError('redFlag', replyUrgentAdvice);
      const keys = (request.body.attachments ?? []).map(({ key }) => key);
      const files = await verifyUploads(deps.attachments, practiceId, keys);
      const message = await withTransaction(deps.pool, (client) =>
        writePatientReply(client, { consultationId, practiceId, body: request.body.body, files }),
      );
      deps.notify(practiceId, { consultationId, change: 'updated' });
      const practice = await findPracticeSettings(deps.pool, practiceId);
      return reply.code(201).send({ ...message, practiceClosed: practiceClosedNotice(practice, deps.now()) });
    },
  );
  done();
};

/**
 * Checks the patient's date of birth against the request's; the request's reference when it
 * matches. A wrong one is counted and committed (the count must survive), then refused.
 */
async function checkBirthDate(
  pool: pg.Pool,
  { consultationId, practiceId }: ThreadRef,
  birthDate: string,
): Promise<string> {
  const reference = await withTransaction(pool, async (client) => {
    const access = await lockThreadAccess(client, consultationId, practiceId);
    if (!access) throw threadLinkInvalid();
    if (access.locked)
      throw new AppError(
        'tooManyRequests',
        `Too many wrong tries. Try again in ${lockMinutes} minutes, or contact your GP surgery.`,
      );
    if (access.birthDate !== birthDate) {
      await recordWrongBirthDate(client, consultationId, {
        attempts: access.failedAttempts + 1,
        maxTries,
        lockMinutes,
      });
      return undefined;
    }
    await clearWrongBirthDates(client, consultationId);
    return access.reference;
  });
  if (reference === undefined)
    throw new AppError('unauthorized', 'That date of birth does not match our records');
  return reference;
}

/**
 * In the caller's transaction: the reply and its files, the request back in front of staff, and
 * the audit event. A closed request (or one that is not the thread's) takes no replies.
 */
async function writePatientReply(
  client: Queryable,
  reply: { consultationId: string; practiceId: string; body: string; files: VerifiedUpload[] },
): Promise<ThreadMessageView> {
  const { consultationId, practiceId } = reply;
  const status = await lockConsultation(client, practiceId, consultationId);
  if (!status || status === 'closed')
    throw new AppError('conflict', 'This request is closed. Contact your GP surgery.');
  const message = await insertPatientMessage(client, { practiceId, consultationId, body: reply.body });
  await insertAttachments(client, practiceId, consultationId, reply.files);
  await returnToStaffAfterReply(client, consultationId);
  await recordAudit(client, {
    practiceId,
    actor: 'patient-thread',
    action: 'reply',
    entity: 'consultation',
    entityId: consultationId,
  });
  return message;
}
