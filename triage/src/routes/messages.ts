import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import type pg from 'pg';
import { AppError } from '@gpc/contracts';
import {
  allowedContentTypes,
  maxAttachmentBytes,
  verifyUploads,
  type AttachmentStore,
} from '../attachments/store';
import { allowRoles } from '../auth/staff-auth';
import { withTransaction } from '../db/transaction';
import { ErrorBody } from '../errors';
import type { QueueChange } from '../live';
import { chooseChannel, parseNotificationSettings, type PatientContact } from '../notifications/settings';
import {
  NotificationView,
  notificationColumns,
  toNotificationView,
  type NotificationRow,
} from '../notifications/view';

const maxTries = 5;
const lockMinutes = 30;
const linkDays = 14;

const ThreadLinkClaims = Type.Object({
  typ: Type.Literal('thread'),
  consultationId: Type.String(),
  practiceId: Type.String(),
});
const ThreadSessionClaims = Type.Object({
  typ: Type.Literal('thread-session'),
  consultationId: Type.String(),
  practiceId: Type.String(),
});
const checkLink = TypeCompiler.Compile(ThreadLinkClaims);
const checkSession = TypeCompiler.Compile(ThreadSessionClaims);

const Message = Type.Object({
  id: Type.String(),
  author: Type.String(),
  body: Type.String(),
  at: Type.String({ format: 'date-time' }),
});
const Body = Type.Object(
  { body: Type.String({ minLength: 1, maxLength: 5000, pattern: '\\S' }) },
  { additionalProperties: false },
);
const IdParams = Type.Object({ id: Type.String({ format: 'uuid' }) });
const Reply = Type.Object(
  {
    body: Type.String({ minLength: 1, maxLength: 5000, pattern: '\\S' }),
    /** Photos uploaded with /threads/uploads. */
    attachments: Type.Optional(
      Type.Array(
        Type.Object(
          { key: Type.String({ pattern: '^uploads/[0-9a-f-]{36}/[0-9a-f-]{36}$' }) },
          { additionalProperties: false },
        ),
        {
          maxItems: 5,
        },
      ),
    ),
  },
  { additionalProperties: false },
);

interface MessageRow {
  id: string;
  author: string;
  body: string;
  created_at: Date;
}
const toMessage = (row: MessageRow) => ({
  id: row.id,
  author: row.author,
  body: row.body,
  at: row.created_at.toISOString(),
});

export interface MessageRoutesDeps {
  pool: pg.Pool;
  /** Sends the link to the patient by email or text, for practices that have a provider set up. */
  queueNotification?: (notificationId: string) => Promise<void>;
  /** Where patients' photos go; without it, replies cannot carry photos. */
  attachments?: AttachmentStore;
  /** Where the web pages are served: the patient's thread link points there. */
  publicWebUrl: string;
  notify: (practiceId: string, change: QueueChange) => void;
}

/** A signed link to the patient's thread, valid for two weeks; the thread also asks for their date of birth. */
export function threadLinkFor(
  app: FastifyInstance,
  publicWebUrl: string,
  consultationId: string,
  practiceId: string,
): string {
  const token = app.jwt.sign({ typ: 'thread', consultationId, practiceId } as never, {
    expiresIn: `${linkDays}d`,
  });
  return `${publicWebUrl.replace(/\/$/, '')}/thread.html#t=${token}`;
}

/**
 * Staff message a patient about a request; the patient follows a signed link, proves who they are
 * with their date of birth (locked after five wrong tries), reads and replies. Replies land back
 * in the queue.
 */
export function registerMessageRoutes(app: FastifyInstance, deps: MessageRoutesDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  const { pool } = deps;
  const anyStaff = allowRoles('admin', 'clinician', 'reception');

  const messagesOf = async (consultationId: string) =>
    (
      await pool.query<MessageRow>(
        'SELECT id, author, body, created_at FROM message WHERE consultation_id = $1 ORDER BY created_at',
        [consultationId],
      )
    ).rows.map(toMessage);

  typed.get(
    '/consultations/:id/messages',
    {
      preHandler: anyStaff,
      schema: {
        summary: 'The messages on a request',
        params: IdParams,
        response: { 200: Type.Array(Message), 404: ErrorBody },
      },
    },
    async (request) => {
      const found = await pool.query('SELECT 1 FROM consultation WHERE id = $1 AND practice_id = $2', [
        request.params.id,
        request.staff.practiceId,
      ]);
      if (found.rowCount === 0) throw new AppError('notFound', 'No such request');
      return messagesOf(request.params.id);
    },
  );

  typed.post(
    '/consultations/:id/messages',
    {
      preHandler: anyStaff,
      schema: {
        summary: 'Message the patient; answers with the link to send them',
        params: IdParams,
        body: Body,
        response: {
          201: Type.Object({
            message: Message,
            threadLink: Type.String(),
            /** How the link goes to the patient; null when the practice sends links itself. */
            notification: Type.Union([NotificationView, Type.Null()]),
          }),
          400: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { practiceId, sub } = request.staff;
      const { message, notification } = await withTransaction(pool, async (client) => {
        const current = await client.query<{
          status: string;
          contact_phone: string | null;
          contact_email: string | null;
          preferred_contact: PatientContact['preferred'];
          notification_settings: unknown;
        }>(
          `SELECT c.status, c.contact_phone, c.contact_email, c.preferred_contact, p.notification_settings
             FROM consultation c JOIN practice p ON p.id = c.practice_id
            WHERE c.id = $1 AND c.practice_id = $2 FOR UPDATE OF c`,
          [request.params.id, practiceId],
        );
        if (!current.rows[0]) throw new AppError('notFound', 'No such request');
        if (current.rows[0].status === 'closed') throw new AppError('conflict', 'This request is closed');
        const { rows } = await client.query<MessageRow>(
          `INSERT INTO message (practice_id, consultation_id, author, staff_id, body) VALUES ($1, $2, 'staff', $3, $4)
           RETURNING id, author, body, created_at`,
          [practiceId, request.params.id, sub, request.body.body],
        );
        await client.query(
          `UPDATE consultation SET status = 'awaiting_patient', updated_at = now() WHERE id = $1`,
          [request.params.id],
        );
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, $2, 'message patient', 'consultation', $3)`,
          [practiceId, sub, request.params.id],
        );
        // the link goes to the patient from the outbox, in this transaction: a queue outage delays it, never loses it
        const row = current.rows[0];
        let notification: NotificationRow | undefined;
        if (row.notification_settings !== null) {
          const settings = parseNotificationSettings(row.notification_settings);
          const route = chooseChannel(settings, {
            phone: row.contact_phone,
            email: row.contact_email,
            preferred: row.preferred_contact,
          });
          // no way to reach the patient is recorded too, as a failed notification saying why
          const [channel, destination, status, lastError] =
            'unreachable' in route
              ? ['email', '', 'failed', route.unreachable]
              : [route.channel, route.destination, 'queued', null];
          const inserted = await client.query<NotificationRow>(
            `INSERT INTO notification (practice_id, consultation_id, message_id, channel, destination, provider, status, last_error)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${notificationColumns}`,
            [
              practiceId,
              request.params.id,
              rows[0]!.id,
              channel,
              destination,
              settings?.provider ?? 'smtp',
              status,
              lastError,
            ],
          );
          notification = inserted.rows[0];
        }
        return { message: toMessage(rows[0]!), notification };
      });
      deps.notify(practiceId, { consultationId: request.params.id, change: 'updated' });
      if (notification?.status === 'queued' && deps.queueNotification) {
        // committed already: if the queue is down, the worker's sweep sends it later
        await deps
          .queueNotification(notification.id)
          .catch((error: unknown) =>
            request.log.warn(
              { err: error, notificationId: notification.id },
              'could not queue a notification',
            ),
          );
      }
      return reply.code(201).send({
        message,
        threadLink: threadLinkFor(app, deps.publicWebUrl, request.params.id, practiceId),
        notification: notification ? toNotificationView(notification) : null,
      });
    },
  );

  typed.post(
    '/threads/unlock',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'A patient opens their thread with the link and their date of birth (public)',
        body: Type.Object(
          {
            token: Type.String({ minLength: 10, maxLength: 2000 }),
            birthDate: Type.String({ format: 'date' }),
          },
          { additionalProperties: false },
        ),
        response: {
          200: Type.Object({ sessionToken: Type.String(), reference: Type.String() }),
          400: ErrorBody,
          401: ErrorBody,
          429: ErrorBody,
        },
      },
    },
    async (request) => {
      let claims: unknown;
      try {
        const { iat: _iat, exp: _exp, ...rest } = app.jwt.verify<Record<string, unknown>>(request.body.token);
        claims = rest;
      } catch {
        throw new AppError('unauthorized', 'This link has expired or is not valid. Contact your GP surgery.');
      }
      if (!checkLink.Check(claims))
        throw new AppError('unauthorized', 'This link has expired or is not valid. Contact your GP surgery.');
      const { consultationId, practiceId } = claims;
      return withTransaction(pool, async (client) => {
        await client.query('INSERT INTO thread_access (consultation_id) VALUES ($1) ON CONFLICT DO NOTHING', [
          consultationId,
        ]);
        const { rows } = await client.query<{
          failed_attempts: number;
          locked: boolean;
          birth_date: string;
          reference: string;
        }>(
          `SELECT t.failed_attempts, coalesce(t.locked_until > now(), false) AS locked, c.patient_birth_date::text AS birth_date, c.reference
             FROM thread_access t JOIN consultation c ON c.id = t.consultation_id
            WHERE t.consultation_id = $1 AND c.practice_id = $2 FOR UPDATE OF t`,
          [consultationId, practiceId],
        );
        const access = rows[0];
        if (!access)
          throw new AppError(
            'unauthorized',
            'This link has expired or is not valid. Contact your GP surgery.',
          );
        if (access.locked)
          throw new AppError(
            'tooManyRequests',
            `Too many wrong tries. Try again in ${lockMinutes} minutes, or contact your GP surgery.`,
          );
        if (access.birth_date !== request.body.birthDate) {
          const attempts = access.failed_attempts + 1;
          await client.query(
            `UPDATE thread_access
                SET failed_attempts = CASE WHEN $2::int >= $3::int THEN 0 ELSE $2::int END,
                    locked_until = CASE WHEN $2::int >= $3::int THEN now() + make_interval(mins => $4::int) END
              WHERE consultation_id = $1`,
            [consultationId, attempts, maxTries, lockMinutes],
          );
          // a wrong answer is committed, not rolled back: the count must survive
          return { wrong: true as const };
        }
        await client.query(
          'UPDATE thread_access SET failed_attempts = 0, locked_until = NULL WHERE consultation_id = $1',
          [consultationId],
        );
        const sessionToken = app.jwt.sign({ typ: 'thread-session', consultationId, practiceId } as never, {
          expiresIn: '30m',
        });
        return { sessionToken, reference: access.reference };
      }).then((result) => {
        if ('wrong' in result)
          throw new AppError('unauthorized', 'That date of birth does not match our records');
        return result;
      });
    },
  );

  function threadSession(request: FastifyRequest): { consultationId: string; practiceId: string } {
    const header = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    try {
      const { iat: _iat, exp: _exp, ...claims } = app.jwt.verify<Record<string, unknown>>(header);
      if (checkSession.Check(claims)) return claims;
    } catch {
      // fall through
    }
    throw new AppError('unauthorized', 'Open the link again and enter your date of birth');
  }

  typed.post(
    '/threads/uploads',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'Permission to upload a photo to go with a reply',
        body: Type.Object(
          {
            contentType: Type.Union(allowedContentTypes.map((type) => Type.Literal(type))),
            size: Type.Integer({ minimum: 1, maximum: maxAttachmentBytes }),
          },
          { additionalProperties: false },
        ),
        response: {
          201: Type.Object({
            key: Type.String(),
            url: Type.String(),
            headers: Type.Record(Type.String(), Type.String()),
          }),
          400: ErrorBody,
          401: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const { practiceId } = threadSession(request);
      if (!deps.attachments) throw new AppError('badRequest', 'Photos cannot be sent here');
      const key = deps.attachments.newUploadKey(practiceId);
      const url = await deps.attachments.uploadUrl(key, request.body.contentType, request.body.size);
      return reply.code(201).send({ key, url, headers: { 'content-type': request.body.contentType } });
    },
  );

  typed.get(
    '/threads/messages',
    {
      schema: {
        summary: 'The patient reads their thread',
        response: { 200: Type.Array(Message), 401: ErrorBody },
      },
    },
    async (request) => messagesOf(threadSession(request).consultationId),
  );

  typed.post(
    '/threads/messages',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'The patient replies',
        body: Reply,
        response: { 201: Message, 400: ErrorBody, 401: ErrorBody, 409: ErrorBody },
      },
    },
    async (request, reply) => {
      const { consultationId, practiceId } = threadSession(request);
      const files = await verifyUploads(
        deps.attachments,
        practiceId,
        (request.body.attachments ?? []).map(({ key }) => key),
      );
      const message = await withTransaction(pool, async (client) => {
        const current = await client.query<{ status: string }>(
          'SELECT status FROM consultation WHERE id = $1 AND practice_id = $2 FOR UPDATE',
          [consultationId, practiceId],
        );
        if (!current.rows[0] || current.rows[0].status === 'closed')
          throw new AppError('conflict', 'This request is closed. Contact your GP surgery.');
        const { rows } = await client.query<MessageRow>(
          `INSERT INTO message (practice_id, consultation_id, author, body) VALUES ($1, $2, 'patient', $3) RETURNING id, author, body, created_at`,
          [practiceId, consultationId, request.body.body],
        );
        for (const file of files) {
          await client.query(
            'INSERT INTO attachment (practice_id, consultation_id, s3_key, content_type, size_bytes) VALUES ($1, $2, $3, $4, $5)',
            [practiceId, consultationId, file.key, file.contentType, file.size],
          );
        }
        // the reply puts the request back in front of staff
        await client.query(
          `UPDATE consultation SET status = 'in_progress', updated_at = now() WHERE id = $1 AND status = 'awaiting_patient'`,
          [consultationId],
        );
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, 'patient-thread', 'reply', 'consultation', $2)`,
          [practiceId, consultationId],
        );
        return toMessage(rows[0]!);
      });
      deps.notify(practiceId, { consultationId, change: 'updated' });
      return reply.code(201).send(message);
    },
  );
}
