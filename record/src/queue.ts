// `@gpc/record/queue`: the write-back queue on bull, for producers (triage) and the worker alike.
// Loads no FHIR definitions: triage imports this without the worker's side.
import Queue from 'bull';
import { QueueNames, writeBackJobId, writeBackJobIdBase, type WriteBackJob } from '@gpc/contracts';
import { FhirSendError, PracticeBusy, WriteBackRetry } from './filing/errors';

export type WriteBackQueue = Queue.Queue<WriteBackJob>;

export interface RetryPolicy {
  /** The first retry waits about this long; each later one about twice as long. */
  baseDelayMs: number;
  /** No wait is longer, whatever the attempt or `Retry-After` says. */
  maxDelayMs: number;
}

export interface WriteBackQueueOptions {
  /** Keeps one deployment's (or test's) queues apart from another's on the same Redis. */
  prefix?: string;
  /** Jobs started per practice per `durationMs`, so no practice's backlog floods its GP system. */
  perPracticeLimit?: { max: number; durationMs: number };
  retry?: RetryPolicy;
  /** How long a worker holds a job before another may take it as stalled (the worker died). */
  lockDurationMs?: number;
  stalledIntervalMs?: number;
}

export const defaultRetryPolicy: RetryPolicy = { baseDelayMs: 5_000, maxDelayMs: 15 * 60_000 };

// kept importable from here, where the queue's callers first found them
export { PracticeBusy, WriteBackRetry };

/** A handed-back job comes back after about this long. */
const PRACTICE_BUSY_DELAY_MS = 500;

/**
 * Exponential backoff with jitter: attempt n waits between half and all of base·2^(n-1), so
 * many jobs failing together do not all come back together. A `Retry-After` from the GP system
 * is honoured (a little jitter on top).
 */
export function writeBackDelay(
  attemptsMade: number,
  error: unknown,
  policy: RetryPolicy,
  random = Math.random,
): number {
  if (error instanceof PracticeBusy) return Math.round(PRACTICE_BUSY_DELAY_MS * (0.5 + random()));
  const retryAfter =
    error instanceof WriteBackRetry || error instanceof FhirSendError ? error.retryAfterMs : undefined;
  if (retryAfter !== undefined) return Math.min(policy.maxDelayMs, Math.round(retryAfter + random() * 1000));
  const attempt = error instanceof WriteBackRetry ? error.attempt : attemptsMade;
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * The write-back queue, for producers (triage) and the worker alike. The per-practice limiter's
 * group key shapes the job ids, so every user of the queue must build it here.
 */
export function createWriteBackQueue(redisUrl: string, options: WriteBackQueueOptions = {}): WriteBackQueue {
  const retry = options.retry ?? defaultRetryPolicy;
  const limit = options.perPracticeLimit ?? { max: 10, durationMs: 1000 };
  return new Queue<WriteBackJob>(QueueNames.writeBack, redisUrl, {
    // bull's command connection (adds, moves, announcements): while Redis is away a command fails
    // after one failed reconnect (a second or two) instead of waiting ~10 s, so callers (a close in
    // triage, a health probe, the worker's loop) learn at once and fall back on the outbox. Its
    // blocking and event connections keep bull's own settings: they wait for Redis however long.
    // All three connections try to reconnect at most every 2 s, for as long as it takes: bull's own
    // backoff grows to 20 s, which after a 30 s failover leaves the worker idle up to 20 s more.
    redis: { maxRetriesPerRequest: 1, retryStrategy: (times: number) => Math.min(200 * times, 2000) },
    prefix: options.prefix ?? 'gpc',
    limiter: { max: limit.max, duration: limit.durationMs, groupKey: 'practiceId' },
    settings: {
      lockDuration: options.lockDurationMs ?? 30_000,
      stalledInterval: options.stalledIntervalMs ?? 30_000,
      // a job whose worker keeps dying is failed (and shown) rather than retried for ever
      maxStalledCount: 3,
      backoffStrategies: {
        writeBack: (attemptsMade: number, error: Error) => writeBackDelay(attemptsMade, error, retry),
      },
    },
  });
}

/** Enqueues a consultation's write-back once: the job id is derived from the consultation. */
export async function enqueueWriteBack(queue: WriteBackQueue, job: WriteBackJob): Promise<void> {
  await queue.add(job, {
    jobId: writeBackJobIdBase(job.consultationId),
    // the worker counts real attempts in the write_back row and fails the job itself; bull's count
    // also counts hand-backs (PracticeBusy), so its ceiling is only there because bull needs one
    attempts: 1_000_000,
    backoff: { type: 'writeBack' },
    stackTraceLimit: 3,
    // the write_back row is the record of what happened: a finished job is not needed, a failed one is kept
    removeOnComplete: true,
    removeOnFail: false,
  });
}

/**
 * Queues a write-back again after a replay, a patient match or a lost job: a finished job with the
 * same id is removed first (adding over it would be a no-op); a waiting, delayed or running one is
 * left. True when it queued a job.
 */
export async function requeueWriteBack(queue: WriteBackQueue, job: WriteBackJob): Promise<boolean> {
  const existing = await queue.getJob(writeBackJobId(job));
  if (existing) {
    const state = await existing.getState();
    if (state !== 'completed' && state !== 'failed') return false;
    await existing.remove();
  }
  await enqueueWriteBack(queue, job);
  return true;
}
