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
 * connected, sweeps the outbox on a timer for jobs the queue lost, and closes sweeps then queue,
 * once. `name` says which in the logs (e.g. 'trace').
 */
export function superviseOutboxQueue(
  queue: Queue,
  options: {
    name: string;
    logger: FastifyBaseLogger;
    sweep: () => Promise<number>;
    sweepIntervalMs?: number | undefined;
  },
): OutboxWorker {
  const { name, logger, sweep } = options;
  queue.on('error', (error) => {
    // each reconnect attempt of an outage is an 'error' too: the outage is logged once where the
    // queue is made (server.ts, watchRedis), the errors of a connected queue here
    if (queue.client.status === 'ready') logger.warn({ err: error }, `${name} queue error`);
  });
  const sweeps = runEvery(options.sweepIntervalMs ?? 30_000, sweep, (error) =>
    logger.warn({ err: error }, `${name} sweep failed`),
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
