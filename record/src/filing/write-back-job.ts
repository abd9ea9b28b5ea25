import type { Job } from 'bull';
import type pg from 'pg';
import type { Logger } from 'pino';
import { isValidNhsNumber, type WriteBackJob } from '@gpc/contracts';
import type { SecretKeyring } from '@gpc/contracts/secrets';
import type { FhirClient } from '../fhir/client';
import type { AnnounceWriteBack } from '../staff-live';
import {
  createFhirR4Transport,
  type FilingTransports,
  type ReadyFiling,
  type TransportResult,
} from '../transports';
import { markFailed, markNeedsPatientMatch, noteRetryableError } from '../write-back';
import { FhirSendError, PermanentFailure, PracticeBusy, WriteBackRetry } from './errors';
import { claimFiling, type ClaimedFiling, type DocumentSource, type LoadedFiling } from './load';

export interface WriteBackProcessorDeps {
  pool: pg.Pool;
  fhir: FhirClient;
  readDocument: DocumentSource;
  logger: Logger;
  /** Attempts at the GP system before the write-back is failed for a person to look at. */
  maxAttempts: number;
  /** Write-backs of one practice in flight at once in this worker; more are handed back for later. */
  practiceConcurrency: number;
  /** Called after every attempt, whatever came of it, so dashboards show it as it happens. */
  announce?: AnnounceWriteBack;
  /** Decrypts practices' stored credentials (RECORD_SECRETS_*); without it, a practice that has one fails. */
  secrets?: SecretKeyring;
  /**
   * The transports besides FHIR R4 (made from `fhir` unless given): GP Connect Send Document when the
   * service has a MESH mailbox. A write-back bound for one not given fails, saying so.
   */
  transports?: FilingTransports;
}

export type WriteBackResult = TransportResult | { outcome: 'needs_patient_match' };

/**
 * Files one consultation's summary into its practice's GP record. The `write_back` row decides:
 * only a pending write-back is sent, so a job that outlives its row's state (filed, failed,
 * waiting for a patient match) does nothing. Every attempt is counted before it is made.
 */
export function createWriteBackProcessor(deps: WriteBackProcessorDeps) {
  // practice id -> write-backs in flight: a slow GP system holds at most its share of the slots
  const inFlight = new Map<string, number>();
  const transports: FilingTransports = {
    'fhir-r4': createFhirR4Transport({ pool: deps.pool, fhir: deps.fhir }),
    ...deps.transports,
  };

  return async function processWriteBack(job: Job<WriteBackJob>): Promise<WriteBackResult> {
    const { practiceId } = job.data;
    const busy = inFlight.get(practiceId) ?? 0;
    if (busy >= deps.practiceConcurrency) throw new PracticeBusy();
    inFlight.set(practiceId, busy + 1);
    try {
      return await attemptWriteBack(deps, transports, job);
    } finally {
      const left = (inFlight.get(practiceId) ?? 1) - 1;
      if (left > 0) inFlight.set(practiceId, left);
      else inFlight.delete(practiceId);
    }
  };
}

async function attemptWriteBack(
  deps: WriteBackProcessorDeps,
  transports: FilingTransports,
  job: Job<WriteBackJob>,
): Promise<WriteBackResult> {
  const { consultationId, practiceId } = job.data;
  const log = deps.logger.child({ consultationId, jobId: job.id });
  const claimed = await claimFiling(deps.pool, consultationId, practiceId, deps.readDocument, deps.secrets);
  if (!claimed) return { outcome: 'skipped', reason: 'not pending' };
  try {
    return await fileClaimed(deps, transports, job, log, claimed);
  } catch (error) {
    return await failAttempt(deps, job, log, claimed.attempt, error);
  } finally {
    deps.announce?.(job.data);
  }
}

async function fileClaimed(
  deps: WriteBackProcessorDeps,
  transports: FilingTransports,
  job: Job<WriteBackJob>,
  log: Logger,
  { attempt, load }: ClaimedFiling,
): Promise<WriteBackResult> {
  const { consultationId } = job.data;
  const ready = readyToFile(await load());
  if (ready === 'needs_patient_match') {
    await markNeedsPatientMatch(deps.pool, consultationId);
    log.info('write-back waits for a patient match');
    return { outcome: 'needs_patient_match' };
  }
  const transport = transports[ready.target.transport];
  if (!transport) throw new PermanentFailure(`this worker has no ${ready.target.transport} transport set up`);
  return await transport.file(job.data, ready, log.child({ attempt, transport: ready.target.transport }));
}

/**
 * The loaded write-back, ready for its transport, or `needs_patient_match` when there is no valid
 * NHS number or the patient's identity is not confirmed for it (never filed against a guess: staff
 * confirm the patient once PDS has verified the number, which queues it again). Throws
 * `PermanentFailure` when the consultation is not there to file.
 */
function readyToFile(loaded: LoadedFiling | undefined): ReadyFiling | 'needs_patient_match' {
  if (!loaded) throw new PermanentFailure('the consultation is not a closed request of this practice');
  const { nhsNumber } = loaded.data;
  if (!nhsNumber || !isValidNhsNumber(nhsNumber)) return 'needs_patient_match';
  // the filing gate, again where it is sent: identity confirmed for this very number, or never sent
  if (!loaded.identityConfirmed) return 'needs_patient_match';
  return { ...loaded, data: { ...loaded.data, nhsNumber } };
}

/**
 * Records a failed attempt and throws what bull should see: the error itself when the write-back
 * is failed for good (no retry can mend it, or it was the last attempt), a `WriteBackRetry` otherwise.
 */
async function failAttempt(
  deps: WriteBackProcessorDeps,
  job: Job<WriteBackJob>,
  log: Logger,
  attempt: number,
  error: unknown,
): Promise<never> {
  const { consultationId } = job.data;
  const reason = error instanceof Error ? error.message : String(error);
  const status = error instanceof FhirSendError ? error.status : undefined;
  // a transport's error that says no retry can help (the FHIR endpoint's refusal, MESH's)
  const retryable = (error as { retryable?: unknown } | null)?.retryable;
  const permanent = error instanceof PermanentFailure || retryable === false;
  if (permanent || attempt >= deps.maxAttempts) {
    await markFailed(deps.pool, consultationId, reason);
    // kept in the failed set as the dead letter; a replay starts it afresh
    void job.discard(); // synchronous in bull; typed as a promise
    log.warn({ attempt, status }, 'write-back failed');
    throw error;
  }
  // the database may be what failed; the retry is what matters
  await noteRetryableError(deps.pool, consultationId, reason).catch(() => undefined);
  log.info({ attempt, status }, 'write-back will retry');
  throw new WriteBackRetry(reason, attempt, error instanceof FhirSendError ? error.retryAfterMs : undefined);
}
