import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort, waitFor } from '@gpc/test-support';

const repoRoot = path.resolve(import.meta.dirname, '../../..');

export interface ChildService {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGKILL: no shutdown handler runs, as when a machine or container dies. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for it to exit. */
  stop(): Promise<number | null>;
}

function track(child: ChildProcess): ChildService {
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exited;
    },
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      return exited;
    },
  };
}

/** The record worker as production runs it: `record/src/server.ts` in its own process. */
export function spawnRecordWorker(env: Record<string, string>): ChildService {
  const child = spawn(process.execPath, ['--import', 'tsx', 'record/src/server.ts'], {
    cwd: repoRoot,
    env: {
      PATH: process.env.PATH ?? '',
      RECORD_PORT: '0',
      // no attachments in these runs; the worker still needs to know where they would be
      RECORD_S3_BUCKET: 'unused-bucket',
      RECORD_S3_ACCESS_KEY_ID: 'unused',
      RECORD_S3_SECRET_ACCESS_KEY: 'unused',
      RECORD_LOG_LEVEL: 'warn',
      RECORD_PRACTICE_CONCURRENCY: '10',
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  return track(child);
}

export interface RedisServer extends ChildService {
  url: string;
  /** Kills it (SIGKILL) and starts it again on the same port and data directory. */
  crashAndRestart(downMs: number): Promise<void>;
  remove(): Promise<void>;
}

/**
 * A Redis of the test's own, started with `deploy/redis/redis.conf` (append-only file, fsync every
 * second, no eviction) on a port and in a data directory of its own.
 */
export async function startRedis(): Promise<RedisServer> {
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'gpc-redis-'));
  // deploy's own file, so what the crash test proves holds for the settings production runs
  const launch = () =>
    track(
      spawn(
        'redis-server',
        [
          path.join(repoRoot, 'deploy/redis/redis.conf'),
          '--port',
          String(port),
          '--bind',
          '127.0.0.1',
          '--dir',
          dir,
        ],
        { stdio: ['ignore', 'pipe', 'pipe'] },
      ),
    );
  const waitReady = (service: ChildService) =>
    waitFor(
      () => `redis-server to start: ${service.output()}`,
      () => service.output().includes('Ready to accept connections'),
      { timeoutMs: 10_000 },
    );
  let current = launch();
  await waitReady(current);
  const handle: RedisServer = {
    url: `redis://127.0.0.1:${port}`,
    get child() {
      return current.child;
    },
    output: () => current.output(),
    get exited() {
      return current.exited;
    },
    kill: () => current.kill(),
    stop: () => current.stop(),
    async crashAndRestart(downMs) {
      await current.kill();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      current = launch();
      await waitReady(current);
    },
    async remove() {
      await current.stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
