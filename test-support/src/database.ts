import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { migrateDatabase } from '@gpc/triage';
import type { TestLifetime } from './lifetime';

export const testServerUrl =
  process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';

export interface TestDatabase {
  url: string;
  pool: pg.Pool;
  drop(): Promise<void>;
}

function withDatabase(serverUrl: string, name: string): string {
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  return url.toString();
}

/**
 * A fresh, empty database of the test's own on the real PostgreSQL (or on `serverUrl`, e.g. a
 * `startPostgres()` cluster); `drop()` removes it.
 */
export async function createTestDatabase(serverUrl: string = testServerUrl): Promise<TestDatabase> {
  const name = `gpc_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${admin.escapeIdentifier(name)}`);
  } finally {
    await admin.end();
  }
  const url = withDatabase(serverUrl, name);
  const pool = new pg.Pool({ connectionString: url, max: 5 });
  // dropping the database ends any connection still idle here: expected at teardown, not a failure
  pool.on('error', () => undefined);
  return {
    url,
    pool,
    async drop() {
      await pool.end();
      const client = new pg.Client({ connectionString: serverUrl });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${client.escapeIdentifier(name)} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

export interface TestDatabaseOptions {
  /** The server to create it on: the machine's test server unless given (`startPostgres().url`). */
  serverUrl?: string;
}

/** A fresh database with every migration applied, dropped when `t` ends. */
export async function startTestDatabase(
  t: TestLifetime,
  options: TestDatabaseOptions = {},
): Promise<TestDatabase> {
  const db = await createTestDatabase(options.serverUrl);
  t.after(() => db.drop());
  await migrateDatabase(db.url);
  return db;
}
