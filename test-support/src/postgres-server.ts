/**
 * A PostgreSQL cluster of the test's own (never the machine's), for tests that crash it: `initdb`
 * into a temporary directory, trust authentication on 127.0.0.1 only, a free port, its unix socket
 * in that directory, and `fsync` on, since whether committed work survives a crash is the point.
 *
 * `crash()` SIGKILLs the postmaster and every backend at once (the whole process group), as when
 * the machine or container dies: no shutdown checkpoint, no goodbye to clients (their sockets just
 * close), and the next start replays the write-ahead log. (`pg_ctl stop -m immediate` would be
 * gentler: the postmaster tells the backends to quit and clients get an error message first.)
 */
import { spawn, spawnSync } from 'node:child_process';
import { chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { track, type ChildService } from './processes';
import { freePort } from './services';
import { waitFor } from './wait';

export interface PostgresServer {
  /** `postgres://postgres@127.0.0.1:<port>/postgres`: the server's own database. */
  url: string;
  port: number;
  /** Its temporary directory (data directory and unix socket), deleted by `remove()`. */
  dir: string;
  /** The URL of another database on this server (create it with `createDatabase`). */
  databaseUrl(name: string): string;
  /** Creates an empty database and gives its URL. */
  createDatabase(name: string): Promise<string>;
  /** The postmaster's output so far (across restarts). */
  output(): string;
  /** SIGKILL of the postmaster and all its backends, leaving it down until `up()`. */
  crash(): Promise<void>;
  /** Starts it again on the same directory and port; resolves once it accepts connections. */
  up(): Promise<void>;
  /** Whether a postmaster started by this handle is running now. */
  readonly running: boolean;
  /** Stops it (fast shutdown) and deletes its directory. Idempotent. */
  remove(): Promise<void>;
}

/** The newest PostgreSQL installed: /usr/lib/postgresql/<major>/bin. */
function postgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = readdirSync(root)
    .filter((name) => /^\d+$/.test(name))
    .sort((a, b) => Number(b) - Number(a));
  if (majors.length === 0) throw new Error(`no PostgreSQL server under ${root}`);
  return path.join(root, majors[0]!, 'bin');
}

/** Runs as the `postgres` OS user when we are root (PostgreSQL refuses to run as root). */
function asPostgres(command: string, args: string[]): [string, string[]] {
  if (process.getuid?.() !== 0) return [command, args];
  return ['setpriv', ['--reuid=postgres', '--regid=postgres', '--init-groups', '--', command, ...args]];
}

function postgresIds(): { uid: number; gid: number } {
  const id = (flag: string) => {
    const result = spawnSync('id', [flag, 'postgres'], { encoding: 'utf8' });
    if (result.status !== 0) throw new Error(`no postgres OS user: ${result.stderr}`);
    return Number(result.stdout.trim());
  };
  return { uid: id('-u'), gid: id('-g') };
}

/**
 * Whether the cluster in `dataDir` accepts connections at `url`: another test's server on a port
 * freed by a crash and taken meanwhile is not it.
 */
async function acceptsConnections(url: string, dataDir: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    const { rows } = await client.query<{ dir: string }>(`SELECT current_setting('data_directory') AS dir`);
    if (rows[0]?.dir !== dataDir)
      throw new Error(`port taken by another PostgreSQL (${rows[0]?.dir}) while this one was down`);
    return true;
  } catch (error) {
    if (error instanceof Error && error.message.startsWith('port taken')) throw error;
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** A PostgreSQL cluster of the test's own, started and accepting connections. */
export async function startPostgres(): Promise<PostgresServer> {
  const bin = postgresBin();
  const port = await freePort();
  const dir = mkdtempSync(path.join(tmpdir(), 'gpc-postgres-'));
  const data = path.join(dir, 'data');
  const socketDir = path.join(dir, 'socket');
  mkdirSync(socketDir);
  if (process.getuid?.() === 0) {
    const { uid, gid } = postgresIds();
    chownSync(dir, uid, gid);
    chownSync(socketDir, uid, gid);
  }
  const [initCommand, initArgs] = asPostgres(path.join(bin, 'initdb'), [
    '-D',
    data,
    '-U',
    'postgres',
    '--auth=trust',
    '--encoding=UTF8',
    '--locale=C',
    // initdb's own final flush only; the running server keeps fsync on (below)
    '--no-sync',
  ]);
  const init = spawnSync(initCommand, initArgs, { encoding: 'utf8' });
  if (init.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`initdb failed: ${init.stdout}${init.stderr}`);
  }

  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  let earlierOutput = '';
  let current: ChildService | undefined;
  let removed = false;

  const launch = async () => {
    const [command, args] = asPostgres(path.join(bin, 'postgres'), [
      '-D',
      data,
      '-p',
      String(port),
      '-k',
      socketDir,
      '-c',
      'listen_addresses=127.0.0.1',
      '-c',
      'fsync=on',
      '-c',
      'synchronous_commit=on',
      '-c',
      'full_page_writes=on',
      '-c',
      'max_connections=100',
    ]);
    // its own process group, so crash() reaches every backend too
    const service = track(spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], detached: true }));
    current = service;
    await waitFor(
      () => `PostgreSQL on port ${port} to accept connections: ${service.output()}`,
      async () => {
        if (service.child.exitCode !== null) throw new Error(`postgres exited: ${service.output()}`);
        return acceptsConnections(url, data);
      },
      { timeoutMs: 30_000, intervalMs: 100 },
    );
  };

  const killGroup = async (signal: NodeJS.Signals) => {
    const service = current;
    if (!service) return;
    const pid = service.child.pid;
    if (pid !== undefined && service.child.exitCode === null && service.child.signalCode === null) {
      try {
        process.kill(-pid, signal);
      } catch {
        // already gone
      }
    }
    await service.exited;
    earlierOutput += service.output();
    current = undefined;
  };

  await launch();

  const handle: PostgresServer = {
    url,
    port,
    dir,
    databaseUrl(name) {
      return `postgres://postgres@127.0.0.1:${port}/${name}`;
    },
    async createDatabase(name) {
      const client = new pg.Client({ connectionString: url });
      await client.connect();
      try {
        await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
      } finally {
        await client.end();
      }
      return handle.databaseUrl(name);
    },
    output: () => earlierOutput + (current?.output() ?? ''),
    async crash() {
      await killGroup('SIGKILL');
    },
    async up() {
      if (removed) throw new Error('this PostgreSQL was removed');
      if (current) return;
      await launch();
    },
    get running() {
      return current !== undefined;
    },
    async remove() {
      if (removed) return;
      removed = true;
      // SIGINT to the postmaster: fast shutdown (ends client sessions, no waiting for them)
      const service = current;
      if (service?.child.pid !== undefined && service.child.exitCode === null) {
        try {
          process.kill(service.child.pid, 'SIGINT');
        } catch {
          // already gone
        }
        const stopped = await Promise.race([
          service.exited.then(() => true),
          new Promise<boolean>((resolve) => setTimeout(() => resolve(false), 10_000)),
        ]);
        if (!stopped) await killGroup('SIGKILL');
        current = undefined;
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return handle;
}
