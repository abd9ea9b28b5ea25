import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  refusals,
  IdParams,
  StaffMessageBody,
  StaffMessageSent,
  StaffMessagesQuery,
  ThreadMessage,
  type ThreadMessage as ThreadMessageView,
} from '@gpc/contracts';
import { requireStaff } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import { consultationExists } from '../db/consultations';
import { insertStaffMessage, listMessages, listMessagesShownTo } from '../db/messages';
import { toNotificationView, type NotificationRow } from '../db/notifications';
import type { Queryable } from '../db/queryable';
import { lockMessageRecipient, markAwaitingPatient } from '../db/consultations';
import { withTransaction } from '../db/transaction';
import type { QueueChange } from '../live';
import { recordThreadLinkNotification } from '../notifications/outbox';
import { threadLinkFor } from '../thread-tokens';

export interface StaffMessageRoutesDeps {
  pool: pg.Pool;
  /** Sends the link to the patient by email or text, for practices that have a provider set up. */
  queueNotification?: (notificationId: string) => Promise<void>;
  /** Where the web pages are served: the patient's thread link points there. */
  publicWebUrl: string;
  notify: (practiceId: string, change: QueueChange) => void;
}

/**
 * Staff message a patient about a request, under `/consultations`: the patient follows a signed
 * link to their thread (routes/threads.ts), and replies land back in the queue. Any staff role.
 */
export const staffMessageRoutes: FastifyPluginCallbackTypebox<StaffMessageRoutesDeps> = (app, deps, done) => {
  app.addHook('preHandler', requireStaff);

  app.get(
    '/:id/messages',
    {
      schema: {
        summary: 'The messages on a request; with markSeen, the patient’s are recorded as seen by the caller',
        params: IdParams,
        querystring: StaffMessagesQuery,
        response: { 200: Type.Array(ThreadMessage), ...refusals(400, 404) },
      },
    },
    async (request) => {
      const { practiceId, sub } = request.staff;
      const consultationId = request.params.id;
      if (!(await consultationExists(deps.pool, practiceId, consultationId)))
        throw new AppError('notFound', 'No such request');
      // only what is shown to them counts as seen: a closing clinician must have been shown every reply
      return request.query.markSeen
        ? listMessagesShownTo(deps.pool, consultationId, sub)
        : listMessages(deps.pool, consultationId);
    },
  );

  app.post(
    '/:id/messages',
    {
      schema: {
        summary: 'Message the patient; answers with the link to send them',
        params: IdParams,
        body: StaffMessageBody,
        response: { 201: StaffMessageSent, ...refusals(400, 404, 409) },
      },
    },
    async (request, reply) => {
      const { practiceId, sub } = request.staff;
      const consultationId = request.params.id;
      const { message, notification } = await withTransaction(deps.pool, (client) =>
        writeStaffMessage(client, { practiceId, staffId: sub, consultationId, body: request.body.body }),
      );
      deps.notify(practiceId, { consultationId, change: 'updated' });
      if (notification?.status === 'queued') await queueThreadLink(deps, notification.id, request.log);
      return reply.code(201).send({
        message,
        threadLink: threadLinkFor(app, deps.publicWebUrl, consultationId, practiceId),
        notification: notification ? toNotificationView(notification) : null,
      });
    },
  );
  done();
};

/**
 * In the caller's transaction: the message, the request now waiting for the patient, the audit
 * event, and the notification that takes the link to the patient (when the practice has a provider).
 */
async function writeStaffMessage(
  client: Queryable,
  written: { practiceId: string; staffId: string; consultationId: string; body: string },
): Promise<{ message: ThreadMessageView; notification: NotificationRow | undefined }> {
  const { practiceId, staffId, consultationId } = written;
  const recipient = await lockMessageRecipient(client, consultationId, practiceId);
  if (!recipient) throw new AppError('notFound', 'No such request');
  if (recipient.status === 'closed') throw new AppError('conflict', 'This request is closed');
  const message = await insertStaffMessage(client, {
    practiceId,
    consultationId,
    staffId,
    body: written.body,
  });
  await markAwaitingPatient(client, consultationId);
  await recordAudit(client, {
    practiceId,
    actor: staffId,
    action: 'message patient',
    entity: 'consultation',
    entityId: consultationId,
  });
  const notification = await recordThreadLinkNotification(client, {
    practiceId,
    consultationId,
    messageId: message.id,
    contact: recipient.contact,
    notificationSettings: recipient.notificationSettings,
  });
  return { message, notification };
}

/** Hands a committed notification to the queue; if the queue is down, the worker's sweep sends it later. */
async function queueThreadLink(
  deps: StaffMessageRoutesDeps,
  notificationId: string,
  log: FastifyBaseLogger,
): Promise<void> {
  if (!deps.queueNotification) return;
  await deps
    .queueNotification(notificationId)
    .catch((error: unknown) => log.warn({ err: error, notificationId }, 'could not queue a notification'));
}
