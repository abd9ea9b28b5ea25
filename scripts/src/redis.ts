import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Redis } from 'ioredis';
import { commandExists, ensureAptPackages } from './apt';
import type { StartedService } from './services';

async function answers(url: string): Promise<boolean> {
  const client = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 1500,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  client.on('error', () => undefined);
  try {
    await client.connect();
    return (await client.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    client.disconnect();
  }
}

/**
 * Uses the Redis that answers at `redisUrl`; otherwise, for a local URL, installs Debian's
 * `redis-server` (as root) and runs one as a child of this process, with an append-only file so
 * queued write-back jobs survive a restart.
 */
export async function ensureRedis(
  redisUrl: string,
  stateDir: string,
  log: (line: string) => void,
): Promise<StartedService | undefined> {
  if (await answers(redisUrl)) return undefined;
  const url = new URL(redisUrl);
  if (!['127.0.0.1', 'localhost'].includes(url.hostname)) {
    // someone else's Redis, down for now: the services run without it, retry, and say when it answers
    log(
      `Redis at ${url.host} does not answer: starting anyway; the services keep retrying and say when it answers (GPC_REDIS_URL)`,
    );
    return undefined;
  }
  if (!(await commandExists('redis-server')))
    await ensureAptPackages(['redis-server'], 'to run a local Redis');
  // Debian's package may have started its own service on install
  if (await answers(redisUrl)) return undefined;

  const dir = path.join(stateDir, 'redis');
  mkdirSync(dir, { recursive: true });
  const port = url.port || '6379';
  log(`starting Redis on ${url.hostname}:${port} (data in ${dir})`);
  const child = spawn(
    'redis-server',
    [
      '--port',
      port,
      '--bind',
      url.hostname,
      '--dir',
      dir,
      '--appendonly',
      'yes',
      '--appendfsync',
      'everysec',
      '--save',
      '',
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  for (let attempt = 0; attempt < 40 && !(await answers(redisUrl)); attempt++) {
    if (child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  if (!(await answers(redisUrl))) {
    child.kill('SIGKILL');
    throw new Error(`started redis-server but ${url.host} does not answer`);
  }
  return {
    name: 'Redis',
    stop: async () => {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}
