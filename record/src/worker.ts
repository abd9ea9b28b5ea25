import { closeOnce, runEvery } from '@gpc/contracts';
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
  void queue.process(deps.concurrency, processor).catch((error: unknown) => {
    logger.error({ err: error }, 'the write-back worker stopped taking jobs');
  });

  // failures that never reach the processor's own handling, e.g. a job whose worker died too often
  queue.on('failed', (job, error) => {
    if (error instanceof PracticeBusy) return; // handed back untried
    void (async () => {
      if (!(await job.isFailed())) return; // a retry is scheduled
      if (await markFailed(pool, job.data.consultationId, error.message)) deps.announce?.(job.data);
    })().catch((err: unknown) => logger.warn({ err, jobId: job.id }, 'could not record a failed write-back'));
  });
  queue.on('error', (error) => logger.warn({ err: error }, 'write-back queue error'));

  async function sweep(): Promise<number> {
    const lost = await listUntouchedPending(pool, { untouchedForMs: deps.sweepAfterMs, limit: 1000 });
    let requeued = 0;
    for (const job of lost) if (await requeueWriteBack(queue, job)) requeued++;
    if (requeued > 0) logger.warn({ requeued }, 'queued again write-backs the queue had lost');
    return requeued;
  }

  const sweeps = runEvery(deps.sweepIntervalMs, sweep, (error) =>
    logger.warn({ err: error }, 'write-back sweep failed'),
  );

  return {
    sweep,
    close: closeOnce(async () => {
      await sweeps.stop();
      // bull waits for the jobs in flight to finish before it closes
      await queue.close();
    }),
  };
}
