/**
 * Processes of a test's own: a Redis it may crash and restart (never the machine's), and the way a
 * test follows any child process it starts. Fault tests of every package share these.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { freePort } from './services';
import { waitFor } from './wait';

const repoRoot = path.resolve(import.meta.dirname, '../..');

export interface ChildService {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
  /** SIGKILL: no shutdown handler runs, as when a machine or container dies. */
  kill(): Promise<void>;
  /** SIGTERM, then wait for it to exit. */
  stop(): Promise<number | null>;
}

/** Follows a child process: its output, its exit, and how to kill or stop it. */
export function track(child: ChildProcess): ChildService {
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

export interface RedisServer extends ChildService {
  url: string;
  /** Kills it (SIGKILL) and starts it again on the same port and data directory. */
  crashAndRestart(downMs: number): Promise<void>;
  /** Kills it (SIGKILL), leaving it down until `up()`. */
  down(): Promise<void>;
  /**
   * Starts it again on the same port and data directory (with what its append-only file kept), or
   * with `{ empty: true }` its files removed first: as a failover without its data comes back.
   */
  up(options?: { empty?: boolean }): Promise<void>;
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
      await handle.down();
      await new Promise((resolve) => setTimeout(resolve, downMs));
      await handle.up();
    },
    down: () => current.kill(),
    async up(options = {}) {
      if (options.empty) {
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir);
      }
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
