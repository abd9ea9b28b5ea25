import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { runner } from 'node-pg-migrate';
import pg from 'pg';

export const migrationsDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../migrations');

export interface MigrateOptions {
  /** Apply only this many pending migrations (tests use it to build an older schema). */
  count?: number;
  log?: (message: string) => void;
}

/**
 * Applies pending migrations in order, each in its own transaction. node-pg-migrate holds an
 * advisory lock meanwhile, so two processes starting together do not both migrate.
 */
export async function migrateDatabase(databaseUrl: string, options: MigrateOptions = {}): Promise<string[]> {
  const applied = await runner({
    databaseUrl,
    dir: migrationsDir,
    migrationsTable: 'schema_migration',
    direction: 'up',
    ...(options.count === undefined ? {} : { count: options.count }),
    checkOrder: true,
    singleTransaction: false,
    log: options.log ?? (() => undefined),
    verbose: false,
  });
  return applied.map((migration) => migration.name);
}

/** Creates the URL's database when the server lacks it (from the server's `postgres` database). */
export async function createDatabaseIfMissing(databaseUrl: string): Promise<void> {
  const url = new URL(databaseUrl);
  const name = decodeURIComponent(url.pathname.slice(1));
  url.pathname = '/postgres';
  const client = new pg.Client({ connectionString: url.toString() });
  await client.connect();
  try {
    const found = await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
    if (found.rowCount === 0) await client.query(`CREATE DATABASE ${client.escapeIdentifier(name)}`);
  } catch (error) {
    // another process created it between our check and our CREATE
    if ((error as { code?: string }).code !== '42P04') throw error;
  } finally {
    await client.end();
  }
}
