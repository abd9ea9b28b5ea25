import Queue from 'bull';
import { reconnectPromptly } from '../redis';

/** A trace to make: the `patient_trace` row says the rest (the job carries ids only). */
export interface TraceJob {
  consultationId: string;
}

export type TraceQueue = Queue.Queue<TraceJob>;

export const TRACE_QUEUE_NAME = 'patient-trace';

export interface TraceQueueOptions {
  /** Keeps one deployment's (or test's) queues apart from another's on the same Redis. */
  prefix?: string;
  /** The first retry of a trace PDS could not answer waits about this long, each later one about twice as long. */
  retryBaseDelayMs?: number;
}

/** How long the retry after `attemptsMade` failed attempts waits: exponential, equal jitter, at most an hour. */
export function traceRetryDelay(baseMs: number, attemptsMade: number): number {
  const ceiling = Math.min(3_600_000, baseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2));
}

export function createTraceQueue(redisUrl: string, options: TraceQueueOptions = {}): TraceQueue {
  const base = options.retryBaseDelayMs ?? 15_000;
  return new Queue<TraceJob>(TRACE_QUEUE_NAME, redisUrl, {
    // after an outage, back within 2 s of Redis (bull's own backoff waits up to 20 s)
    redis: { retryStrategy: reconnectPromptly },
    prefix: options.prefix ?? 'gpc',
    settings: { backoffStrategies: { trace: (attemptsMade: number) => traceRetryDelay(base, attemptsMade) } },
  });
}

const jobId = (consultationId: string) => `trace-${consultationId}`;

/** Queues a request's trace once: the job id is derived from the request. */
export async function enqueueTrace(queue: TraceQueue, consultationId: string): Promise<void> {
  await queue.add(
    { consultationId },
    {
      jobId: jobId(consultationId),
      // retried until PDS answers; the row counts attempts
      attempts: 10_000,
      backoff: { type: 'trace' },
      removeOnComplete: true,
      removeOnFail: true,
    },
  );
}

/**
 * Queues a trace again: after its job was lost, or (`now`) because it is owed afresh (staff
 * recorded a new number), when a retry waiting out its backoff is run at once. True when it queued one.
 */
export async function requeueTrace(
  queue: TraceQueue,
  consultationId: string,
  options: { now?: boolean } = {},
): Promise<boolean> {
  const existing = await queue.getJob(jobId(consultationId));
  if (existing) {
    const state = await existing.getState();
    if (state === 'delayed' && options.now) {
      await existing.promote();
      return true;
    }
    if (state !== 'completed' && state !== 'failed') return false;
    await existing.remove();
  }
  await enqueueTrace(queue, consultationId);
  return true;
}
