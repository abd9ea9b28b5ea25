import pg from 'pg';
import { pino } from 'pino';
import { ConfigError } from '@gpc/contracts';
import { buildRecordApp } from './app';
import { loadRecordConfig, type RecordConfig } from './config';
import { createWriteBackQueue } from './queue';

let config: RecordConfig;
try {
  config = loadRecordConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`record: ${error.message}\n`);
  process.exit(1);
}

const logger = pino({ level: config.logLevel, base: { service: 'record' } });
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 5 });
// an idle connection the server drops (restart, failover) is replaced on next use: log it, never crash
pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));
const queue = createWriteBackQueue(config.redisUrl);
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
  await app.close();
  await queue.close();
  await pool.end();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
