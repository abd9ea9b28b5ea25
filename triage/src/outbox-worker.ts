import type { Queue } from 'bull';
import type { FastifyBaseLogger } from 'fastify';
import { runEvery } from '@gpc/contracts';

/** A bull worker whose PostgreSQL outbox rows are what is owed: its sweep and its close. */
export interface OutboxWorker {
  /** Queues again the owed rows whose job was lost; how many. */
  sweep(): Promise<number>;
  /** Stops taking jobs and lets those in flight finish. Idempotent. */
  close(): Promise<void>;
}

/**
 * What every outbox worker of triage does around its processing: logs its queue's errors while
 * connected, sweeps the outbox on a timer for jobs the queue lost (what is owed and untouched for
 * the sweep's own threshold), sweeps at once with no threshold when Redis is back after an outage,
 * and closes sweeps then queue, once. `name` says which in the logs (e.g. 'trace').
 */
export function superviseOutboxQueue(
  queue: Queue,
  options: {
    name: string;
    logger: FastifyBaseLogger;
    /** Queues again what is owed, untouched for `overdueForMs` (the worker's own threshold when not given), and not in the queue. */
    sweep: (overdueForMs?: number) => Promise<number>;
    sweepIntervalMs?: number | undefined;
  },
): OutboxWorker {
  const { name, logger, sweep } = options;
  let redisLost = false;
  queue.on('error', (error) => {
    // each reconnect attempt of an outage is an 'error' too: the outage is logged once where the
    // queue is made (server.ts, watchRedis), the errors of a connected queue here
    if (queue.client.status === 'ready') logger.warn({ err: error }, `${name} queue error`);
    else redisLost = true;
  });
  // Redis back: what was owed meanwhile (never queued) or lost with an emptied Redis is queued now,
  // not minutes later when the timed sweep finds it untouched for long enough; a job still in the
  // queue is left as it is (each job's id is its row's)
  queue.client.on('ready', () => {
    if (!redisLost) return;
    redisLost = false;
    sweep(0).catch((error: unknown) => logger.warn({ err: error }, `${name} sweep failed`));
  });
  const sweeps = runEvery(options.sweepIntervalMs ?? 30_000, sweep, (error) =>
    logger.warn({ err: error }, `${name} sweep failed`),
  );
  let closing: Promise<void> | undefined;
  return {
    sweep: () => sweep(),
    close() {
      closing ??= (async () => {
        await sweeps.stop();
        await queue.close();
      })();
      return closing;
    },
  };
}
