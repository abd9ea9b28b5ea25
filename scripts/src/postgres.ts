import { execFile } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { promisify } from 'node:util';
import pg from 'pg';
import { ensureAptPackages } from './apt';
import type { StartedService } from './services';

const run = promisify(execFile);

async function answers(url: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.query('select 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

/** The same server's `postgres` database: always there, and where CREATE DATABASE is run from. */
export function maintenanceUrl(databaseUrl: string): string {
  const url = new URL(databaseUrl);
  url.pathname = '/postgres';
  return url.toString();
}

function isLocal(url: URL): boolean {
  return ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(url.hostname);
}

function installedMajor(): string | undefined {
  try {
    return readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a))[0];
  } catch {
    return undefined;
  }
}

/**
 * Uses the PostgreSQL that answers at `databaseUrl`; otherwise, for a local URL, installs Debian's
 * server (as root) and starts its cluster, with the URL's password set for the `postgres` role so
 * the password login Debian configures for 127.0.0.1 works. Returns how to stop it when it started it.
 */
export async function ensurePostgres(
  databaseUrl: string,
  log: (line: string) => void,
): Promise<StartedService | undefined> {
  const probeUrl = maintenanceUrl(databaseUrl);
  if (await answers(probeUrl)) return undefined;
  const url = new URL(databaseUrl);
  if (!isLocal(url))
    throw new Error(`PostgreSQL at ${url.host} does not answer (set GPC_DATABASE_URL to a reachable server)`);

  await ensureAptPackages(['postgresql'], 'to run a local PostgreSQL');
  const major = installedMajor();
  if (!major) throw new Error('PostgreSQL is installed but /usr/lib/postgresql has no version');
  const port = url.port || '5432';
  const asRoot = process.getuid?.() === 0;
  if (!asRoot) {
    throw new Error(
      `PostgreSQL is installed but not running: run \`sudo pg_ctlcluster ${major} main start\`, then try again`,
    );
  }
  const { stdout } = await run('pg_lsclusters', ['--no-header']);
  if (!stdout.split('\n').some((line) => line.split(/\s+/)[1] === 'main' && line.startsWith(major))) {
    log(`creating PostgreSQL ${major} cluster "main" on port ${port}`);
    await run('pg_createcluster', [major, 'main', '--port', port]);
  }
  log(`starting PostgreSQL ${major} (cluster main, port ${port})`);
  await run('pg_ctlcluster', [major, 'main', 'start']).catch((error: { stderr?: string }) => {
    // "already running" is fine: it may be starting up, or listen elsewhere than the URL says
    if (!/already running/.test(error.stderr ?? '')) throw error;
  });
  if (url.username === 'postgres' && url.password) {
    const password = decodeURIComponent(url.password).replaceAll("'", "''");
    await run('runuser', [
      '-u',
      'postgres',
      '--',
      'psql',
      '-p',
      port,
      '-qc',
      `ALTER ROLE postgres PASSWORD '${password}'`,
    ]);
  }
  for (let attempt = 0; attempt < 30 && !(await answers(probeUrl)); attempt++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  if (!(await answers(probeUrl)))
    throw new Error(`started PostgreSQL ${major} but ${url.host} still does not answer`);
  return {
    name: 'PostgreSQL',
    stop: async () => {
      await run('pg_ctlcluster', [major, 'main', 'stop']).catch(() => undefined);
    },
  };
}
