import type { Job } from 'bull';
import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { NotificationJob } from '@gpc/contracts';
import {
  claimQueuedNotification,
  findSentNotification,
  findStaleQueuedNotifications,
  markNotificationDelivered,
  markNotificationFailed,
  markNotificationSent,
  noteNotificationError,
  type ClaimedNotificationRow,
} from '../db/notifications';
import { enqueueDeliveryCheck, NotificationJobs, requeueNotification, type NotificationQueue } from './queue';
import { createSender, NotificationSendError, type NotificationSender } from './senders';
import { parseNotificationSettings, type NotificationSettings } from './settings';
import { superviseOutboxQueue, type OutboxWorker } from '../outbox-worker';
import { queueClient, withRedis } from '../redis';
import { openNotificationSettings } from '../secrets/practice-secrets';
import { SecretUnreadable, type SecretKeyring } from '@gpc/contracts/secrets';

export interface NotificationWorkerDeps {
  queue: NotificationQueue;
  pool: pg.Pool;
  logger: FastifyBaseLogger;
  /** A fresh signed link to the patient's thread (the token is minted at send time, never stored). */
  threadLink: (consultationId: string, practiceId: string) => string;
  /** Tells the practice's dashboards that a request's notification moved on. */
  announce: (practiceId: string, consultationId: string) => void;
  /** Decrypts the practice's stored credential (API key or SMTP password) for each send. */
  secrets?: SecretKeyring;
  senderFor?: (settings: NotificationSettings) => NotificationSender;
  concurrency?: number;
  maxAttempts?: number;
  /** The first delivery check, after a send to a provider that gives receipts. */
  firstDeliveryCheckMs?: number;
  /** How often queued notifications are checked for a job the queue has lost (0: never). */
  sweepIntervalMs?: number;
  sweepAfterMs?: number;
}

/** Its `sweep` queues again the queued notifications whose job was lost. */
export type NotificationWorker = OutboxWorker;

/** The worker's settings with their defaults filled in. */
type Settled = NotificationWorkerDeps & {
  senderFor: (settings: NotificationSettings) => NotificationSender;
  maxAttempts: number;
};

/**
 * Sends the links staff messages create to patients, by the practice's provider, and follows their
 * delivery. The `notification` row is the record of what happened; the job only carries its id.
 */
export function startNotificationWorker(deps: NotificationWorkerDeps): NotificationWorker {
  const { queue, logger } = deps;
  const settled: Settled = {
    ...deps,
    senderFor: deps.senderFor ?? createSender,
    maxAttempts: deps.maxAttempts ?? 10,
  };
  const concurrency = deps.concurrency ?? 5;
  void queue
    .process(NotificationJobs.send, concurrency, (job) => sendNotification(settled, job))
    .catch((error: unknown) => {
      logger.error({ err: error }, 'the notification worker stopped taking jobs');
    });
  void queue
    .process(NotificationJobs.checkDelivery, concurrency, (job) => checkNotificationDelivery(settled, job))
    .catch((error: unknown) => {
      logger.error({ err: error }, 'the delivery checker stopped taking jobs');
    });
  return superviseOutboxQueue(queue, {
    name: 'notification',
    logger,
    sweep: (overdueForMs) => requeueLostNotifications(deps, overdueForMs),
    sweepIntervalMs: deps.sweepIntervalMs,
  });
}

/** One attempt at sending a queued notification; a failure is recorded, then thrown for bull to retry. */
async function sendNotification(deps: Settled, job: Job<NotificationJob>): Promise<void> {
  const row = await claimQueuedNotification(deps.pool, job.data.notificationId);
  if (!row) return; // sent, failed or gone: nothing to do
  const log = deps.logger.child({ notificationId: row.id, channel: row.channel, attempt: row.attempts });
  try {
    const settings = settingsFor(deps, row);
    if (!settings)
      throw new NotificationSendError('the practice has no email or text message service set up', true);
    await handToProvider(deps, row, deps.senderFor(settings));
    log.info('notification sent');
  } catch (error) {
    await recordSendFailure(deps, job, row, error, log);
    throw error;
  } finally {
    deps.announce(row.practice_id, row.consultation_id);
  }
}

/**
 * The practice's settings with their credential decrypted for this practice; a credential that does
 * not decrypt (another practice's, altered, or under a key this service lacks) fails the notification
 * for good, saying so, rather than sending with it.
 */
function settingsFor(
  deps: NotificationWorkerDeps,
  row: ClaimedNotificationRow,
): NotificationSettings | undefined {
  try {
    return parseNotificationSettings(
      openNotificationSettings(deps.secrets, row.practice_id, row.notification_settings),
    );
  } catch (error) {
    if (!(error instanceof SecretUnreadable)) throw error;
    throw new NotificationSendError(
      `the practice's notification credentials cannot be used: ${error.message}`,
      true,
    );
  }
}

async function handToProvider(
  deps: Settled,
  row: ClaimedNotificationRow,
  sender: NotificationSender,
): Promise<void> {
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
    await markNotificationSent(deps.pool, row.id, providerReference);
    if (sender.checkDelivery) {
      await enqueueDeliveryCheck(deps.queue, row.id, deps.firstDeliveryCheckMs ?? 15_000);
    }
  } finally {
    sender.close();
  }
}

/** A permanent failure (or the last attempt) fails the notification for good; any other is retried. */
async function recordSendFailure(
  deps: Settled,
  job: Job<NotificationJob>,
  row: ClaimedNotificationRow,
  error: unknown,
  log: FastifyBaseLogger,
): Promise<void> {
  const message = error instanceof Error ? error.message : String(error);
  const permanent =
    (error instanceof NotificationSendError && error.permanent) || row.attempts >= deps.maxAttempts;
  if (permanent) {
    await markNotificationFailed(deps.pool, row.id, message);
    void job.discard();
    log.warn({ reason: message }, 'notification failed');
  } else {
    await noteNotificationError(deps.pool, row.id, message).catch(() => undefined);
    log.info({ reason: message }, 'notification will be retried');
  }
}

/** Asks the provider whether a sent notification arrived; still pending throws, so bull checks again later. */
async function checkNotificationDelivery(deps: Settled, job: Job<NotificationJob>): Promise<void> {
  const row = await findSentNotification(deps.pool, job.data.notificationId);
  if (!row?.provider_reference) return;
  const settings = settingsFor(deps, row);
  if (!settings) return;
  const sender = deps.senderFor(settings);
  try {
    const delivery = await sender.checkDelivery?.(row.provider_reference);
    if (!delivery || delivery.state === 'pending') throw new Error('not delivered yet'); // checked again later
    if (delivery.state === 'delivered') {
      await markNotificationDelivered(deps.pool, row.id);
    } else {
      await markNotificationFailed(deps.pool, row.id, delivery.reason);
    }
    deps.announce(row.practice_id, row.consultation_id);
  } finally {
    sender.close();
  }
}

/** Queues again the queued notifications whose job the queue has lost. */
async function requeueLostNotifications(
  deps: NotificationWorkerDeps,
  overdueForMs = deps.sweepAfterMs ?? 120_000,
): Promise<number> {
  const stale = await findStaleQueuedNotifications(deps.pool, overdueForMs);
  let requeued = 0;
  // while Redis is down each is refused at once: the sweep fails, logs, and tries again next time
  for (const id of stale)
    if (await withRedis(queueClient(deps.queue), () => requeueNotification(deps.queue, id))) requeued++;
  if (requeued > 0) deps.logger.warn({ requeued }, 'queued again notifications the queue had lost');
  return requeued;
}
