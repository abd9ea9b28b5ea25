import type { Job } from 'bull';
import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import {
  claimOwedTrace,
  listOverdueTraces,
  noteTraceUnavailable,
  recordTraceResult,
  type ClaimedTrace,
} from '../db/identity';
import { classifyTrace, detailsSearchOutcome, needsDetailsSearch } from './classify';
import type { PdsClient } from './pds-client';
import { requeueTrace, traceRetryDelay, type TraceJob, type TraceQueue } from './queue';
import type { TraceResult } from './trace-result';
import { superviseOutboxQueue, type OutboxWorker } from '../outbox-worker';
import { queueClient, withRedis } from '../redis';

export interface TraceWorkerDeps {
  queue: TraceQueue;
  pool: pg.Pool;
  logger: FastifyBaseLogger;
  pds: PdsClient;
  /** Tells the practice's dashboards that a request's identity moved on. */
  announce: (practiceId: string, consultationId: string) => void;
  concurrency?: number;
  /** As the queue's backoff, to record when the next attempt is due. */
  retryBaseDelayMs?: number;
  /** How often owed traces are checked for a job the queue has lost (0: never). */
  sweepIntervalMs?: number;
  /** How long past due an owed trace must be before the sweep queues it again. */
  sweepAfterMs?: number;
  now?: () => Date;
}

/** Its `sweep` queues again the owed traces whose job was lost. */
export type TraceWorker = OutboxWorker;

/**
 * Traces requests' patients against PDS, after submission and never in the patient's request: the
 * `patient_trace` row is what is owed, the job carries only the request's id. A trace PDS cannot
 * answer stays owed and is retried with backoff; the sweep queues again those whose job was lost.
 */
export function startTraceWorker(deps: TraceWorkerDeps): TraceWorker {
  const { queue, logger } = deps;
  void queue
    .process(deps.concurrency ?? 2, (job) => traceOne(deps, job))
    .catch((error: unknown) => logger.error({ err: error }, 'the trace worker stopped taking jobs'));
  return superviseOutboxQueue(queue, {
    name: 'trace',
    logger,
    sweep: (overdueForMs) => requeueLostTraces(deps, overdueForMs),
    sweepIntervalMs: deps.sweepIntervalMs,
  });
}

/** One attempt at an owed trace; PDS not answering is recorded, then thrown for bull to retry. */
async function traceOne(deps: TraceWorkerDeps, job: Job<TraceJob>): Promise<void> {
  const claimed = await claimOwedTrace(deps.pool, job.data.consultationId);
  if (!claimed) return; // done, gone, or no number: nothing to do
  // ids and outcomes only: what is traced is patient data
  const log = deps.logger.child({ consultationId: claimed.consultationId, attempt: claimed.attempt });
  try {
    const result = await trace(deps, claimed);
    const recorded = await recordTraceResult(deps.pool, claimed.consultationId, result);
    log.info({ status: result.status, recorded }, 'patient traced');
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    const delay = traceRetryDelay(deps.retryBaseDelayMs ?? 15_000, job.attemptsMade + 1);
    const now = deps.now?.() ?? new Date();
    await noteTraceUnavailable(deps.pool, {
      consultationId: claimed.consultationId,
      nhsNumber: claimed.subject.nhsNumber,
      reason,
      nextAttemptAt: new Date(now.getTime() + delay),
    }).catch(() => undefined);
    log.warn({ reason }, 'patient trace will be retried');
    throw error;
  } finally {
    deps.announce(claimed.practiceId, claimed.consultationId);
  }
}

/** Reads the number from PDS and, when it does not check out, searches for the typed details. */
async function trace(deps: TraceWorkerDeps, { subject }: ClaimedTrace): Promise<TraceResult> {
  const read = await deps.pds.readPatient(subject.nhsNumber);
  const now = deps.now?.() ?? new Date();
  const result = classifyTrace(subject, read, 'not_searched', now);
  if (!needsDetailsSearch(result)) return result;
  const match = await deps.pds.searchExact(subject);
  return { ...result, detailsSearch: detailsSearchOutcome(subject, match) };
}

async function requeueLostTraces(
  deps: TraceWorkerDeps,
  overdueForMs = deps.sweepAfterMs ?? 120_000,
): Promise<number> {
  const overdue = await listOverdueTraces(deps.pool, {
    overdueForMs,
    limit: 200,
  });
  let requeued = 0;
  // while Redis is down each is refused at once: the sweep fails, logs, and tries again next time
  for (const id of overdue)
    if (await withRedis(queueClient(deps.queue), () => requeueTrace(deps.queue, id))) requeued++;
  if (requeued > 0) deps.logger.warn({ requeued }, 'queued again traces the queue had lost');
  return requeued;
}
