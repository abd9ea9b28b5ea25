import type Queue from 'bull';
import type { Logger } from 'pino';
import { closeOnce, runEvery, type WriteBackJob } from '@gpc/contracts';
import { createWriteBackProcessor, type WriteBackProcessorDeps } from './filing/write-back-job';
import { PracticeBusy } from './filing/errors';
import { requeueWriteBack, type WriteBackQueue } from './queue';
import { listUntouchedPending, markFailed } from './write-back';

export interface WriteBackWorkerDeps extends WriteBackProcessorDeps {
  queue: WriteBackQueue;
  /** Jobs in flight at once in this process. */
  concurrency: number;
  /** How often pending write-backs are checked for a job the queue has lost (0: never). */
  sweepIntervalMs: number;
  /** A pending write-back untouched this long without a live job is queued again. */
  sweepAfterMs: number;
}

export interface WriteBackWorker {
  /** Sweeps once now; returns how many write-backs were queued again. */
  sweep(): Promise<number>;
  /** Stops taking jobs, lets jobs in flight finish, and stops the sweep. Idempotent. */
  close(): Promise<void>;
}

/**
 * The record worker: takes write-back jobs off the queue and files them, and sweeps the
 * `write_back` outbox so a job lost with Redis (or never queued because Redis was down when the
 * request was closed) is queued again. PostgreSQL, not Redis, is where nothing may be lost.
 */
export function startWriteBackWorker(deps: WriteBackWorkerDeps): WriteBackWorker {
  const { queue, pool, logger } = deps;
  const processor = createWriteBackProcessor(deps);
  let closing = false;
  const taking = takeJobsOnceRedisAnswers(deps, processor, () => closing);

  // failures that never reach the processor's own handling, e.g. a job whose worker died too often
  queue.on('failed', (job, error) => {
    if (error instanceof PracticeBusy) return; // handed back untried
    void (async () => {
      if (!(await job.isFailed())) return; // a retry is scheduled
      if (await markFailed(pool, job.data.consultationId, error.message)) deps.announce?.(job.data);
    })().catch((err: unknown) => logger.warn({ err, jobId: job.id }, 'could not record a failed write-back'));
  });
  // Redis back after an outage: what was closed meanwhile (never queued) or lost with an emptied Redis
  // is queued at once, not when the next sweep finds it untouched for sweepAfterMs (2 minutes)
  logRedisOutages(
    queue,
    logger,
    () => void sweep(0).catch((error: unknown) => logger.warn({ err: error }, 'write-back sweep failed')),
  );

  /** Queues again the pending write-backs untouched for `untouchedForMs` whose job is not in the queue. */
  async function sweep(untouchedForMs = deps.sweepAfterMs): Promise<number> {
    const lost = await listUntouchedPending(pool, { untouchedForMs, limit: 1000 });
    let requeued = 0;
    for (const job of lost) if (await requeueWriteBack(queue, job)) requeued++;
    if (requeued > 0) logger.warn({ requeued }, 'queued again write-backs the queue had lost');
    return requeued;
  }

  // while Redis is away nothing can be queued again: the rows wait for its return (above), rather
  // than a failed sweep logged every interval of the outage
  const sweepWhileRedisAnswers = () => (queue.client.status === 'ready' ? sweep() : Promise.resolve(0));
  const sweeps = runEvery(deps.sweepIntervalMs, sweepWhileRedisAnswers, (error) =>
    logger.warn({ err: error }, 'write-back sweep failed'),
  );

  return {
    sweep,
    close: closeOnce(async () => {
      closing = true;
      await sweeps.stop();
      // bull waits for the jobs in flight to finish before it closes
      await queue.close();
      // its job loop ends as the queue closes (or stops waiting for Redis to answer)
      await taking.stop();
    }),
  };
}

/** How long the worker waits before trying again to start taking jobs after Redis failed it. */
const START_RETRY_MS = 2000;

/**
 * Starts bull's job loop once Redis answers. Bull's start (moving unlocked jobs back, readying its
 * blocking connection) fails for good if Redis is away at that moment, leaving a live process that
 * takes no jobs: so it waits for Redis first (logging that it waits), and tries again if it still
 * fails. Once started, bull's loop rides out later outages by itself (it retries every few seconds).
 */
function takeJobsOnceRedisAnswers(
  deps: WriteBackWorkerDeps,
  processor: (job: Queue.Job<WriteBackJob>) => Promise<unknown>,
  closing: () => boolean,
): { stop(): Promise<void> } {
  const { queue, logger } = deps;
  const client = queue.client;
  let wake: (() => void) | undefined;
  /** Resolves after `ms`, or sooner when the client is ready or the worker closes. */
  const readyOrAfter = (ms: number) =>
    new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        client.off('ready', done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      client.once('ready', done);
      wake = done;
    });
  const untilReady = async () => {
    while (client.status !== 'ready' && !closing()) await readyOrAfter(START_RETRY_MS);
  };
  // bull's `start` (what `process` calls after setting the handler) is not in its types
  const restart = queue as unknown as { start(concurrency: number, name: string): Promise<void> };

  const run = (async () => {
    if (client.status !== 'ready') {
      logger.warn(
        'Redis unreachable at start: write-backs wait in PostgreSQL; jobs are taken once it answers',
      );
      await untilReady();
      if (closing()) return;
      logger.info('Redis answers: taking write-back jobs');
    }
    let started = queue.process(deps.concurrency, processor);
    for (;;) {
      try {
        await started;
        return; // resolves when the queue closes
      } catch (error) {
        if (closing()) return;
        logger.error({ err: error }, 'the write-back worker could not start taking jobs: trying again');
        await readyOrAfter(START_RETRY_MS);
        await untilReady();
        if (closing()) return;
        started = restart.start(deps.concurrency, '__default__');
      }
    }
  })().catch((error: unknown) => {
    // only a fault of this code itself can land here: said plainly, and left to stop the process
    // (an unhandled rejection) for its supervisor to restart, rather than a worker taking no jobs
    logger.fatal({ err: error }, 'the write-back worker stopped taking jobs');
    throw error;
  });
  return {
    async stop() {
      wake?.();
      await run;
    },
  };
}

/**
 * Bull reports every failed reconnect and every failed poll as a queue 'error' (several a second
 * during an outage): the first of an outage is logged as an error, the rest at debug, and the
 * return of Redis once.
 */
function logRedisOutages(queue: WriteBackQueue, logger: Logger, onBack: () => void): void {
  let down = false;
  queue.on('error', (error) => {
    if (down) return logger.debug({ err: error }, 'write-back queue error (Redis still unreachable)');
    if (queue.client.status === 'ready') return logger.warn({ err: error }, 'write-back queue error');
    down = true;
    logger.error(
      { err: error },
      'Redis unreachable: write-backs wait in PostgreSQL and are filed when it is back',
    );
  });
  queue.client.on('ready', () => {
    if (!down) return;
    down = false;
    logger.info('Redis back: taking write-back jobs again');
    onBack();
  });
}
