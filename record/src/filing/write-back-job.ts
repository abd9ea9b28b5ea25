import type { Job } from 'bull';
import type pg from 'pg';
import type { Logger } from 'pino';
import { isValidNhsNumber, parseFhirAuth, type WriteBackJob } from '@gpc/contracts';
import { buildWriteBackBundle } from '../fhir/bundle';
import { FhirSendError, type FhirClient } from '../fhir/client';
import { findBundleProblems } from '../fhir/validate';
import { PracticeBusy, WriteBackRetry } from '../queue';
import type { AnnounceWriteBack } from '../staff-live';
import { claimFiling, type DocumentSource } from './load';

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
}

export type WriteBackResult =
  | { outcome: 'filed'; locations: string[]; alreadyFiled: boolean }
  | { outcome: 'needs_patient_match' }
  | { outcome: 'skipped'; reason: string };

/** A failure no retry can mend: the write-back is marked failed at once, with the reason. */
class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

/**
 * Files one consultation's summary into its practice's GP record. The `write_back` row decides:
 * only a pending write-back is sent, so a job that outlives its row's state (filed, failed,
 * waiting for a patient match) does nothing. Every attempt is counted before it is made.
 */
export function createWriteBackProcessor(deps: WriteBackProcessorDeps) {
  const { pool, logger } = deps;

  // practice id -> write-backs in flight: a slow GP system holds at most its share of the slots
  const inFlight = new Map<string, number>();

  return async function processWriteBack(job: Job<WriteBackJob>): Promise<WriteBackResult> {
    const { practiceId } = job.data;
    const busy = inFlight.get(practiceId) ?? 0;
    if (busy >= deps.practiceConcurrency) throw new PracticeBusy();
    inFlight.set(practiceId, busy + 1);
    try {
      return await attemptWriteBack(job);
    } finally {
      const left = (inFlight.get(practiceId) ?? 1) - 1;
      if (left > 0) inFlight.set(practiceId, left);
      else inFlight.delete(practiceId);
    }
  };

  async function attemptWriteBack(job: Job<WriteBackJob>): Promise<WriteBackResult> {
    const { consultationId, practiceId } = job.data;
    const log = logger.child({ consultationId, jobId: job.id });
    const claimed = await claimFiling(pool, consultationId, practiceId, deps.readDocument);
    if (!claimed) return { outcome: 'skipped', reason: 'not pending' };
    try {
      return await fileClaimed(job, log, claimed);
    } finally {
      deps.announce?.(job.data);
    }
  }

  async function fileClaimed(
    job: Job<WriteBackJob>,
    log: Logger,
    { attempt, load }: NonNullable<Awaited<ReturnType<typeof claimFiling>>>,
  ): Promise<WriteBackResult> {
    const { consultationId } = job.data;
    const isLastAttempt = attempt >= deps.maxAttempts;

    try {
      const loaded = await load();
      if (!loaded) throw new PermanentFailure('the consultation is not a closed request of this practice');
      const { data, target } = loaded;
      if (!data.nhsNumber || !isValidNhsNumber(data.nhsNumber)) {
        // never filed against a guess: staff record the number, which queues it again
        await pool.query(
          `UPDATE write_back SET status = 'needs_patient_match', updated_at = now()
            WHERE consultation_id = $1 AND status = 'pending'`,
          [consultationId],
        );
        log.info('write-back waits for a patient match');
        return { outcome: 'needs_patient_match' };
      }
      if (!target.fhirBaseUrl) throw new PermanentFailure('the practice has no FHIR endpoint set up');
      const auth = parseFhirAuth(target.fhirAuth);
      if (!auth) throw new PermanentFailure("the practice's FHIR authentication settings are not valid");
      const bundle = buildWriteBackBundle({ ...data, nhsNumber: data.nhsNumber });
      const problems = findBundleProblems(bundle);
      if (problems) throw new PermanentFailure(`the summary does not make a valid FHIR bundle: ${problems}`);

      const filed = await deps.fhir.postTransaction(target.fhirBaseUrl, auth, bundle);
      await pool.query(
        `UPDATE write_back SET status = 'filed', filed_at = now(), server_locations = $2, last_error = NULL, updated_at = now()
          WHERE consultation_id = $1 AND status = 'pending'`,
        [consultationId, JSON.stringify(filed.locations)],
      );
      log.info({ alreadyFiled: filed.alreadyFiled, attempt }, 'write-back filed');
      return { outcome: 'filed', ...filed };
    } catch (error) {
      const permanent =
        error instanceof PermanentFailure ||
        (error instanceof FhirSendError && !error.retryable) ||
        isLastAttempt;
      const message = error instanceof Error ? error.message : String(error);
      if (permanent) {
        await pool.query(
          `UPDATE write_back SET status = 'failed', last_error = $2, updated_at = now()
            WHERE consultation_id = $1 AND status = 'pending'`,
          [consultationId, message],
        );
        // kept in the failed set as the dead letter; a replay starts it afresh
        void job.discard(); // synchronous in bull; typed as a promise
        log.warn({ attempt, status: (error as FhirSendError).status }, 'write-back failed');
        throw error;
      }
      await pool
        .query(`UPDATE write_back SET last_error = $2, updated_at = now() WHERE consultation_id = $1`, [
          consultationId,
          message,
        ])
        .catch(() => undefined); // the database may be what failed; the retry is what matters
      log.info({ attempt, status: (error as FhirSendError).status }, 'write-back will retry');
      throw new WriteBackRetry(
        message,
        attempt,
        error instanceof FhirSendError ? error.retryAfterMs : undefined,
      );
    }
  }
}
