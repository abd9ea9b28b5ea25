import pg from 'pg';
import { pino } from 'pino';
import { ConfigError } from '@gpc/contracts';
import { buildRecordApp } from './app';
import { loadRecordConfig, type RecordConfig } from './config';
import { FhirClient } from './fhir/client';
import { createS3DocumentSource } from './filing/s3-documents';
import { loadR4Definitions } from './fhir/validate';
import { createWriteBackQueue } from './queue';
import { createWriteBackAnnouncer } from './staff-live';
import { startWriteBackWorker } from './worker';

let config: RecordConfig;
try {
  config = loadRecordConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`record: ${error.message}\n`);
  process.exit(1);
}

const logger = pino({ level: config.logLevel, base: { service: 'record' } });
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: Math.min(20, config.concurrency + 2) });
// an idle connection the server drops (restart, failover) is replaced on next use: log it, never crash
pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));

const documents = createS3DocumentSource({
  bucket: config.s3Bucket,
  region: config.s3Region,
  accessKeyId: config.s3AccessKeyId,
  secretAccessKey: config.s3SecretAccessKey,
  forcePathStyle: config.s3ForcePathStyle,
  ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
});

// half a second, once, before the first job rather than during it
loadR4Definitions();
const queue = createWriteBackQueue(config.redisUrl, {
  prefix: config.queuePrefix,
  perPracticeLimit: { max: config.practiceRateMax, durationMs: config.practiceRateWindowMs },
  retry: { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
  lockDurationMs: config.lockDurationMs,
  stalledIntervalMs: config.stalledIntervalMs,
});
const worker = startWriteBackWorker({
  queue,
  pool,
  fhir: new FhirClient({ timeoutMs: config.fhirTimeoutMs }),
  readDocument: documents.read,
  logger,
  concurrency: config.concurrency,
  maxAttempts: config.maxAttempts,
  practiceConcurrency: config.practiceConcurrency,
  sweepIntervalMs: config.sweepIntervalMs,
  sweepAfterMs: config.sweepAfterMs,
  // bull's command connection also carries the announcements: no extra connection to Redis
  announce: createWriteBackAnnouncer(queue.client, logger),
});
const app = buildRecordApp({ queue, pool, logger });

try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(
    code === 'EADDRINUSE' ? `record: port ${config.port} is already in use\n` : `record: ${String(error)}\n`,
  );
  process.exit(1);
}

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  // a library's late callback failing on a connection already closed must not turn an orderly
  // stop into a crash: the jobs are safe in Redis and the outbox either way
  process.on('unhandledRejection', (reason) => logger.warn({ err: reason }, 'ignored while stopping'));
  logger.info('stopping: finishing the write-backs in flight');
  try {
    await app.close();
    // jobs in flight finish (each is bounded by the FHIR timeout); waiting ones stay queued
    await worker.close();
    await pool.end();
    documents.destroy();
  } catch (error) {
    logger.error({ err: error }, 'could not stop cleanly');
    process.exit(1);
  }
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
