import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createWriteBackQueue, enqueueWriteBack, requeueWriteBack } from '@gpc/record/queue';
import { ConfigError, StaffLive } from '@gpc/contracts';
import { buildTriageApp } from './app';
import { AttachmentStore } from './attachments/store';
import { loadTriageConfig, type TriageConfig } from './config';
import { createDatabaseIfMissing, migrateDatabase } from './db/migrate';
import { createTriageLogger } from './logger';
import { createNotificationQueue } from './notifications/queue';

let config: TriageConfig;
try {
  config = loadTriageConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`triage: ${error.message}\n`);
  process.exit(1);
}

const logger = createTriageLogger(config.logLevel);
try {
  await createDatabaseIfMissing(config.databaseUrl);
  const applied = await migrateDatabase(config.databaseUrl);
  if (applied.length > 0) logger.info({ applied }, 'database migrated');
} catch (error) {
  process.stderr.write(
    `triage: cannot prepare the database: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}

const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
// an idle connection the server drops (restart, failover) is replaced on next use: log it, never crash
pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));
const writeBackQueue = createWriteBackQueue(config.redisUrl);
// this process also sends the links staff messages create, by each practice's provider
const notificationQueue = createNotificationQueue(config.redisUrl);
const attachments = new AttachmentStore({
  bucket: config.s3Bucket,
  region: config.s3Region,
  accessKeyId: config.s3AccessKeyId,
  secretAccessKey: config.s3SecretAccessKey,
  forcePathStyle: config.s3ForcePathStyle,
  ...(config.s3Endpoint ? { endpoint: config.s3Endpoint } : {}),
});
const redisPublisher = new Redis(config.redisUrl);
const redisSubscriber = redisPublisher.duplicate();
const app = await buildTriageApp({
  pool,
  jwtSecret: config.jwtSecret,
  writeBack: {
    queue: (job) => enqueueWriteBack(writeBackQueue, job),
    requeue: async (job) => {
      await requeueWriteBack(writeBackQueue, job);
    },
  },
  logger,
  attachments,
  publicWebUrl: config.publicWebUrl,
  live: { adapter: createAdapter(redisPublisher, redisSubscriber, { key: StaffLive.redisKey }) },
  notifications: { queue: notificationQueue },
});
try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  process.stderr.write(
    code === 'EADDRINUSE' ? `triage: port ${config.port} is already in use\n` : `triage: ${String(error)}\n`,
  );
  await pool.end();
  process.exit(1);
}

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await app.close();
  await writeBackQueue.close();
  attachments.destroy();
  redisPublisher.disconnect();
  redisSubscriber.disconnect();
  await pool.end();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
