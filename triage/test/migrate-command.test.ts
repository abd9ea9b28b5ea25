import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { createTestDatabase, type TestDatabase } from '@gpc/test-support';

const triageDir = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

/** Runs `triage/src/migrate.ts` as the migration Job does; its exit code and what it wrote. */
function runMigrate(env: Record<string, string>): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(triageDir, 'src/migrate.ts')], {
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.once('error', reject);
    child.once('exit', (code) => resolve({ code, output }));
  });
}

describe('the migrate command (the deployment’s migration Job) on the real PostgreSQL', () => {
  let db: TestDatabase;
  before(async () => (db = await createTestDatabase()));
  after(() => db.drop());

  it('applies every migration to an empty database and exits 0, reading only the database URL from triage’s environment', async () => {
    const migrations = (await readdir(path.join(triageDir, 'migrations'))).filter((name) =>
      /^\d{4}_/.test(name),
    );
    // triage's other settings (here a signing key set that is not one) are not the command's to check
    const run = await runMigrate({ TRIAGE_DATABASE_URL: db.url, TRIAGE_SIGNING_KEYS: 'not-a-key-set' });
    assert.equal(run.code, 0, run.output);
    const { rows } = await db.pool.query<{ count: string }>('SELECT count(*) FROM schema_migration');
    assert.equal(Number(rows[0]?.count), migrations.length);
    const again = await runMigrate({ TRIAGE_DATABASE_URL: db.url });
    assert.equal(again.code, 0, again.output);
  });

  it('stops with the variable named when the database URL is missing', async () => {
    const run = await runMigrate({});
    assert.equal(run.code, 1);
    assert.match(run.output, /TRIAGE_DATABASE_URL: required but not set/);
  });
});
