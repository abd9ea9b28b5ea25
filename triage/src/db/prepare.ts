import type { Logger } from 'pino';
import { createDatabaseIfMissing, migrateDatabase } from './migrate';
import { isDatabaseUnavailable } from './unavailable';

export interface PrepareOptions {
  /** Longest pause between tries while PostgreSQL is not answering. */
  maxDelayMs?: number;
  /** How often the wait is logged again after its first line. */
  logEveryMs?: number;
}

/**
 * Creates (if missing) and migrates the database before triage serves, waiting while PostgreSQL is
 * not answering, as when it is restarting or failing over as triage starts: one line when the wait
 * begins, one now and then while it lasts, one when it ends. Anything else (a refused password, a
 * migration that fails) is thrown at once: waiting would not mend it.
 */
export async function prepareDatabase(
  databaseUrl: string,
  logger: Pick<Logger, 'info' | 'warn'>,
  options: PrepareOptions = {},
): Promise<void> {
  const { maxDelayMs = 5000, logEveryMs = 30_000 } = options;
  let waitingSince: number | undefined;
  let loggedAt = 0;
  let delayMs = 250;
  for (;;) {
    try {
      await createDatabaseIfMissing(databaseUrl);
      const applied = await migrateDatabase(databaseUrl);
      if (applied.length > 0) logger.info({ applied }, 'database migrated');
      if (waitingSince !== undefined)
        logger.warn({ waitedMs: Date.now() - waitingSince }, 'PostgreSQL is answering: starting');
      return;
    } catch (error) {
      if (!isDatabaseUnavailable(error)) throw error;
      const now = Date.now();
      waitingSince ??= now;
      if (now - loggedAt >= logEveryMs) {
        loggedAt = now;
        logger.warn(
          { err: { code: (error as { code?: string }).code, message: (error as Error).message } },
          'PostgreSQL is not answering: waiting for it before serving',
        );
      }
      await new Promise((resolve) => setTimeout(resolve, delayMs));
      delayMs = Math.min(maxDelayMs, delayMs * 2);
    }
  }
}
