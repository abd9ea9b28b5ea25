/**
 * The record worker's environment for a bench run: its port, database, Redis and queue prefix, and
 * the pipeline's capacity rather than the per-practice policy (whose defaults would cap a run at
 * 5 write-backs a second a practice); no attachments, quiet logs.
 */
export function benchRecordWorkerEnv(run: {
  port: number;
  databaseUrl: string;
  redisUrl: string;
  prefix: string;
  concurrency: number;
}): Record<string, string> {
  return {
    RECORD_PORT: String(run.port),
    RECORD_DATABASE_URL: run.databaseUrl,
    RECORD_REDIS_URL: run.redisUrl,
    RECORD_QUEUE_PREFIX: run.prefix,
    RECORD_CONCURRENCY: String(run.concurrency),
    RECORD_PRACTICE_CONCURRENCY: String(run.concurrency),
    RECORD_PRACTICE_RATE_MAX: '100000',
    RECORD_S3_BUCKET: 'no-attachments-in-this-run',
    RECORD_S3_ACCESS_KEY_ID: 'unused',
    RECORD_S3_SECRET_ACCESS_KEY: 'unused',
    RECORD_LOG_LEVEL: 'warn',
  };
}
