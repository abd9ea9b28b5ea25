import type { Job } from 'bull';
import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import { runEvery, type NotificationJob } from '@gpc/contracts';
import { enqueueDeliveryCheck, NotificationJobs, requeueNotification, type NotificationQueue } from './queue';
import { createSender, NotificationSendError, type NotificationSender } from './senders';
import { parseNotificationSettings, type NotificationSettings } from './settings';

export interface NotificationWorkerDeps {
  queue: NotificationQueue;
  pool: pg.Pool;
  logger: FastifyBaseLogger;
  /** A fresh signed link to the patient's thread (the token is minted at send time, never stored). */
  threadLink: (consultationId: string, practiceId: string) => string;
  /** Tells the practice's dashboards that a request's notification moved on. */
  announce: (practiceId: string, consultationId: string) => void;
  senderFor?: (settings: NotificationSettings) => NotificationSender;
  concurrency?: number;
  maxAttempts?: number;
  /** The first delivery check, after a send to a provider that gives receipts. */
  firstDeliveryCheckMs?: number;
  /** How often queued notifications are checked for a job the queue has lost (0: never). */
  sweepIntervalMs?: number;
  sweepAfterMs?: number;
}

export interface NotificationWorker {
  sweep(): Promise<number>;
  /** Stops taking jobs and lets those in flight finish. Idempotent. */
  close(): Promise<void>;
}

interface ClaimedRow {
  id: string;
  practice_id: string;
  consultation_id: string;
  channel: 'email' | 'sms';
  destination: string;
  attempts: number;
  provider_reference: string | null;
  notification_settings: unknown;
  practice_name: string;
  reference: string;
}

const claimColumns = `n.id, n.practice_id, n.consultation_id, n.channel, n.destination, n.attempts, n.provider_reference,
  p.notification_settings, p.name AS practice_name, c.reference`;

/**
 * Sends the links staff messages create to patients, by the practice's provider, and follows their
 * delivery. The `notification` row is the record of what happened; the job only carries its id.
 */
export function startNotificationWorker(deps: NotificationWorkerDeps): NotificationWorker {
  const { queue, pool, logger } = deps;
  const maxAttempts = deps.maxAttempts ?? 10;
  const senderFor = deps.senderFor ?? createSender;

  async function fail(row: ClaimedRow, reason: string): Promise<void> {
    await pool.query(
      `UPDATE notification SET status = 'failed', last_error = $2, updated_at = now() WHERE id = $1 AND status IN ('queued', 'sent')`,
      [row.id, reason],
    );
  }

  async function send(job: Job<NotificationJob>): Promise<void> {
    const { rows } = await pool.query<ClaimedRow>(
      `UPDATE notification n SET attempts = n.attempts + 1, updated_at = now()
         FROM practice p, consultation c
        WHERE n.id = $1 AND n.status = 'queued' AND p.id = n.practice_id AND c.id = n.consultation_id
        RETURNING ${claimColumns}`,
      [job.data.notificationId],
    );
    const row = rows[0];
    if (!row) return; // sent, failed or gone: nothing to do
    const log = logger.child({ notificationId: row.id, channel: row.channel, attempt: row.attempts });
    try {
      const settings = parseNotificationSettings(row.notification_settings);
      if (!settings)
        throw new NotificationSendError('the practice has no email or text message service set up', true);
      const sender = senderFor(settings);
      try {
        const providerReference = await sender.send({
          channel: row.channel,
          to: row.destination,
          content: {
            practiceName: row.practice_name,
            reference: row.reference,
            link: deps.threadLink(row.consultation_id, row.practice_id),
          },
          notificationId: row.id,
        });
        await pool.query(
          `UPDATE notification SET status = 'sent', sent_at = now(), provider_reference = $2, last_error = NULL, updated_at = now()
            WHERE id = $1 AND status = 'queued'`,
          [row.id, providerReference],
        );
        if (sender.checkDelivery) {
          await enqueueDeliveryCheck(queue, row.id, deps.firstDeliveryCheckMs ?? 15_000);
        }
        log.info('notification sent');
      } finally {
        sender.close();
      }
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      const permanent =
        (error instanceof NotificationSendError && error.permanent) || row.attempts >= maxAttempts;
      if (permanent) {
        await fail(row, message);
        void job.discard();
        log.warn({ reason: message }, 'notification failed');
      } else {
        await pool
          .query('UPDATE notification SET last_error = $2, updated_at = now() WHERE id = $1', [
            row.id,
            message,
          ])
          .catch(() => undefined);
        log.info({ reason: message }, 'notification will be retried');
      }
      throw error;
    } finally {
      deps.announce(row.practice_id, row.consultation_id);
    }
  }

  async function checkDelivery(job: Job<NotificationJob>): Promise<void> {
    const { rows } = await pool.query<ClaimedRow>(
      `SELECT ${claimColumns} FROM notification n JOIN practice p ON p.id = n.practice_id
         JOIN consultation c ON c.id = n.consultation_id WHERE n.id = $1 AND n.status = 'sent'`,
      [job.data.notificationId],
    );
    const row = rows[0];
    const settings = parseNotificationSettings(row?.notification_settings);
    if (!row?.provider_reference || !settings) return;
    const sender = senderFor(settings);
    try {
      const delivery = await sender.checkDelivery?.(row.provider_reference);
      if (!delivery || delivery.state === 'pending') throw new Error('not delivered yet'); // checked again later
      if (delivery.state === 'delivered') {
        await pool.query(
          `UPDATE notification SET status = 'delivered', delivered_at = now(), updated_at = now() WHERE id = $1 AND status = 'sent'`,
          [row.id],
        );
      } else {
        await fail(row, delivery.reason);
      }
      deps.announce(row.practice_id, row.consultation_id);
    } finally {
      sender.close();
    }
  }

  const concurrency = deps.concurrency ?? 5;
  void queue.process(NotificationJobs.send, concurrency, send).catch((error: unknown) => {
    logger.error({ err: error }, 'the notification worker stopped taking jobs');
  });
  void queue.process(NotificationJobs.checkDelivery, concurrency, checkDelivery).catch((error: unknown) => {
    logger.error({ err: error }, 'the delivery checker stopped taking jobs');
  });
  queue.on('error', (error) => logger.warn({ err: error }, 'notification queue error'));

  async function sweep(): Promise<number> {
    const { rows } = await pool.query<{ id: string }>(
      `SELECT id FROM notification WHERE status = 'queued' AND updated_at < now() - make_interval(secs => $1)
        ORDER BY updated_at LIMIT 1000`,
      [(deps.sweepAfterMs ?? 120_000) / 1000],
    );
    let requeued = 0;
    for (const row of rows) if (await requeueNotification(queue, row.id)) requeued++;
    if (requeued > 0) logger.warn({ requeued }, 'queued again notifications the queue had lost');
    return requeued;
  }
  const sweeps = runEvery(deps.sweepIntervalMs ?? 30_000, sweep, (error) =>
    logger.warn({ err: error }, 'notification sweep failed'),
  );

  let closing: Promise<void> | undefined;
  return {
    sweep,
    close() {
      closing ??= (async () => {
        await sweeps.stop();
        await queue.close();
      })();
      return closing;
    },
  };
}
