import Queue from 'bull';
import { QueueNames, type NotificationJob } from '@gpc/contracts';
import { reconnectPromptly } from '../redis';

export type NotificationQueue = Queue.Queue<NotificationJob>;

export interface NotificationQueueOptions {
  /** Keeps one deployment's (or test's) queues apart from another's on the same Redis. */
  prefix?: string;
  /** The first retry of a send waits about this long, each later one about twice as long. */
  retryBaseDelayMs?: number;
  /** How often a sent notification's delivery is checked with a provider that gives receipts. */
  deliveryCheckEveryMs?: number;
  /**
   * A send's lock, renewed while it runs: a job whose sender died (kill -9) is taken up again once
   * its lock has run out and a worker next checks (every `stalledIntervalMs`). bull's 30 s unless given.
   */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

/** Jobs on the queue: a send, or a check on a sent one's delivery. */
export const NotificationJobs = { send: 'send', checkDelivery: 'check-delivery' } as const;

const deliveryChecks = 60;

export function createNotificationQueue(
  redisUrl: string,
  options: NotificationQueueOptions = {},
): NotificationQueue {
  const base = options.retryBaseDelayMs ?? 10_000;
  return new Queue<NotificationJob>(QueueNames.patientNotifications, redisUrl, {
    // after an outage, back within 2 s of Redis (bull's own backoff waits up to 20 s)
    redis: { retryStrategy: reconnectPromptly },
    prefix: options.prefix ?? 'gpc',
    settings: {
      ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs }),
      ...(options.stalledIntervalMs === undefined ? {} : { stalledInterval: options.stalledIntervalMs }),
      backoffStrategies: {
        // exponential with equal jitter, at most an hour apart
        send: (attemptsMade: number) => {
          const ceiling = Math.min(3_600_000, base * 2 ** Math.max(0, attemptsMade - 1));
          return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
        },
        delivery: () => options.deliveryCheckEveryMs ?? 30_000,
      },
    },
  });
}

/** Queues a notification's send once: the job id is derived from the notification. */
export async function enqueueNotification(queue: NotificationQueue, notificationId: string): Promise<void> {
  await queue.add(
    NotificationJobs.send,
    { notificationId },
    {
      jobId: `send-${notificationId}`,
      // the worker counts attempts in the notification row and fails it itself
      attempts: 1000,
      backoff: { type: 'send' },
      removeOnComplete: true,
      removeOnFail: false,
    },
  );
}

/** Checks a sent notification's delivery every so often until the provider knows (about half an hour). */
export async function enqueueDeliveryCheck(
  queue: NotificationQueue,
  notificationId: string,
  firstCheckAfterMs: number,
): Promise<void> {
  await queue.add(
    NotificationJobs.checkDelivery,
    { notificationId },
    {
      jobId: `delivery-${notificationId}`,
      delay: firstCheckAfterMs,
      attempts: deliveryChecks,
      backoff: { type: 'delivery' },
      removeOnComplete: true,
      removeOnFail: true,
    },
  );
}

/** Queues a send again when its job was lost (or finished without sending). True when it queued one. */
export async function requeueNotification(
  queue: NotificationQueue,
  notificationId: string,
): Promise<boolean> {
  const existing = await queue.getJob(`send-${notificationId}`);
  if (existing) {
    const state = await existing.getState();
    if (state !== 'completed' && state !== 'failed') return false;
    await existing.remove();
  }
  await enqueueNotification(queue, notificationId);
  return true;
}
