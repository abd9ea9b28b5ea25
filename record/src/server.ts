import pg from 'pg';
import { pino } from 'pino';
import { listenFailure, loadConfigOrExit, s3Settings, stopOnSignal } from '@gpc/contracts';
import { secretKeyringFrom, secretLogRedactPaths } from '@gpc/contracts/secrets';
import { buildRecordApp } from './app';
import { loadRecordConfig, meshSettings } from './config';
import { FhirClient } from './fhir/client';
import { createS3DocumentSource } from './filing/s3-documents';
import { loadR4Definitions } from './fhir/validate';
import { createMeshClient } from './mesh';
import { createWriteBackQueue } from './queue';
import { createWriteBackAnnouncer } from './staff-live';
import { createSendDocumentTransport, itk3Composer, startAckPoller } from './transports';
import { parseItkAcknowledgement, prepareItkValidation } from './send-document';
import { startWriteBackWorker } from './worker';

const config = loadConfigOrExit('record', loadRecordConfig);

// a practice's credentials, decrypted to file, are never meant to be logged, and are cut out if they are
const logger = pino({
  level: config.logLevel,
  base: { service: 'record' },
  redact: { paths: [...secretLogRedactPaths], censor: '[redacted]' },
});
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: Math.min(20, config.concurrency + 2) });
// an idle connection the server drops (restart, failover) is replaced on next use: log it, never crash
pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));

const documents = createS3DocumentSource(s3Settings(config));
const secrets = secretKeyringFrom(config, 'RECORD');
if (!secrets)
  logger.warn('RECORD_SECRETS_* is not set: write-backs to practices with stored credentials will fail');

// half a second, once, before the first job rather than during it
loadR4Definitions();
const queue = createWriteBackQueue(config.redisUrl, {
  prefix: config.queuePrefix,
  perPracticeLimit: { max: config.practiceRateMax, durationMs: config.practiceRateWindowMs },
  retry: { baseDelayMs: config.retryBaseDelayMs, maxDelayMs: config.retryMaxDelayMs },
  lockDurationMs: config.lockDurationMs,
  stalledIntervalMs: config.stalledIntervalMs,
});
// GP Connect Send Document: the service's own MESH mailbox sends, and its inbox brings the answers
const mesh = meshSettings(config);
const meshClient = mesh
  ? createMeshClient({ ...mesh, outbound: { allowLoopbackHttp: config.outboundAllowLoopbackHttp } })
  : undefined;
if (!meshClient)
  logger.warn('RECORD_MESH_* is not set: write-backs to Send Document practices cannot be sent');
// the STU3 schema compiled now (about a second), not by the first Send Document message
if (meshClient) prepareItkValidation();
const announce = createWriteBackAnnouncer(queue.client, logger);
const worker = startWriteBackWorker({
  queue,
  pool,
  fhir: new FhirClient({
    timeoutMs: config.fhirTimeoutMs,
    outbound: { allowLoopbackHttp: config.outboundAllowLoopbackHttp },
  }),
  readDocument: documents.read,
  logger,
  concurrency: config.concurrency,
  maxAttempts: config.maxAttempts,
  practiceConcurrency: config.practiceConcurrency,
  sweepIntervalMs: config.sweepIntervalMs,
  sweepAfterMs: config.sweepAfterMs,
  // bull's command connection also carries the announcements: no extra connection to Redis
  announce,
  ...(secrets ? { secrets } : {}),
  transports: {
    'gp-connect-send-document': createSendDocumentTransport({
      pool,
      mesh: meshClient,
      senderMailboxId: mesh?.mailboxId ?? '',
      composer: itk3Composer,
    }),
  },
});
const ackPoller = meshClient
  ? startAckPoller({
      pool,
      mesh: meshClient,
      parseAcknowledgement: parseItkAcknowledgement,
      logger,
      pollIntervalMs: config.meshPollIntervalMs,
      infrastructureAckTimeoutMs: config.meshInfrastructureAckTimeoutMs,
      businessAckTimeoutMs: config.meshBusinessAckTimeoutMs,
      announce,
    })
  : undefined;
const app = buildRecordApp({
  queue,
  pool,
  logger,
  ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
});

try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  process.stderr.write(`${listenFailure('record', config.port, error)}\n`);
  process.exit(1);
}

stopOnSignal(async () => {
  // a library's late callback failing on a connection already closed must not turn an orderly
  // stop into a crash: the jobs are safe in Redis and the outbox either way
  process.on('unhandledRejection', (reason) => logger.warn({ err: reason }, 'ignored while stopping'));
  logger.info('stopping: finishing the write-backs in flight');
  try {
    await app.close();
    // jobs in flight finish (each is bounded by the FHIR timeout); waiting ones stay queued
    await worker.close();
    await ackPoller?.close();
    await meshClient?.close();
    await pool.end();
    documents.destroy();
  } catch (error) {
    logger.error({ err: error }, 'could not stop cleanly');
    process.exit(1);
  }
  process.exit(0);
});
