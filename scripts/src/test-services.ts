import { ensureMediasoupWorker } from './mediasoup-worker';
import { ensurePostgres } from './postgres';
import { ensureRedis } from './redis';
import type { StartedService } from './services';
import { log, type LocalSettings } from './settings';
import { ensureCoturn } from './turn';

/**
 * What tests and benchmarks run against: the mediasoup worker, PostgreSQL and Redis. Whatever had to
 * be started is pushed onto `started`, for the caller to stop; returns the environment to run with.
 */
export async function prepareTestServices(
  settings: LocalSettings,
  started: StartedService[],
): Promise<NodeJS.ProcessEnv> {
  const workerBin = await ensureMediasoupWorker({ log });
  // the TURN browser test starts coturns of its own (test-support's startTurnServer)
  await ensureCoturn();
  const postgres = await ensurePostgres(settings.testDatabaseUrl, log);
  if (postgres) started.push(postgres);
  const redis = await ensureRedis(settings.redisUrl, settings.stateDir, log);
  if (redis) started.push(redis);
  return {
    ...process.env,
    MEDIASOUP_WORKER_BIN: workerBin,
    TEST_DATABASE_URL: settings.testDatabaseUrl,
    TEST_REDIS_URL: settings.redisUrl,
    CHROMIUM_PATH: settings.chromiumPath,
  };
}
