import type { FastifyInstance } from 'fastify';
import type pg from 'pg';
import type { PdsClient } from './pds-client';
import { enqueueTrace, requeueTrace, type TraceQueue } from './queue';
import { startTraceWorker, type TraceWorkerDeps } from './worker';
import { queueClient, withRedis } from '../redis';

/** Tracing patients against PDS: the queue, the PDS client, and the worker's settings. */
export type PatientTraceDeps = { queue: TraceQueue; pds: PdsClient } & Omit<
  TraceWorkerDeps,
  'queue' | 'pool' | 'logger' | 'pds' | 'announce'
>;

/** How routes ask for a trace: after a submission, or at once after staff record a new number. */
export interface TraceQueueing {
  queue: (consultationId: string) => Promise<void>;
  /** Owed afresh: runs a retry waiting out its backoff now. */
  requeueNow: (consultationId: string) => Promise<void>;
}

/**
 * Runs the trace worker in this process when tracing is set up; the app closes it. Undefined when
 * tracing is off: requests stay owed a trace, and none typed into the form is filed.
 */
export function startPatientTraces(
  app: FastifyInstance,
  pool: pg.Pool,
  deps: PatientTraceDeps | undefined,
  announce: (practiceId: string, consultationId: string) => void,
): TraceQueueing | undefined {
  if (!deps) return undefined;
  const worker = startTraceWorker({ ...deps, pool, logger: app.log, announce });
  app.addHook('onClose', () => worker.close());
  return {
    // refused at once while Redis is down: the trace stays owed in PostgreSQL for the sweep
    queue: (consultationId) =>
      withRedis(queueClient(deps.queue), () => enqueueTrace(deps.queue, consultationId)),
    requeueNow: async (consultationId) => {
      await withRedis(queueClient(deps.queue), () => requeueTrace(deps.queue, consultationId, { now: true }));
    },
  };
}
