import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { migrateDatabase } from '@gpc/triage';
import { createTestDatabase, type TestDatabase } from '@gpc/test-support';

async function tables(db: TestDatabase): Promise<string[]> {
  const { rows } = await db.pool.query<{ table_name: string }>(
    "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY table_name",
  );
  return rows.map((row) => row.table_name);
}

describe('migrations on the real PostgreSQL', () => {
  let db: TestDatabase;
  before(async () => (db = await createTestDatabase()));
  after(() => db.drop());

  it('roll forward on a database that already holds data', async () => {
    // an older deployment: only the first migration, with a practice and its staff in it
    assert.deepEqual(await migrateDatabase(db.url, { count: 1 }), ['0001_base-schema']);
    const { rows } = await db.pool.query<{ id: string }>(
      "INSERT INTO practice (ods_code, name) VALUES ('A81001', 'The Surgery') RETURNING id",
    );
    await db.pool.query(
      "INSERT INTO staff (practice_id, email, display_name, role, password_hash) VALUES ($1, 'gp@example.org', 'Dr Example', 'clinician', 'x')",
      [rows[0]!.id],
    );

    const applied = await migrateDatabase(db.url);
    assert.deepEqual(applied.slice(0, 2), ['0002_practice-timezone', '0003_consultation']);
    const practice = await db.pool.query<{ name: string; timezone: string }>(
      'SELECT name, timezone FROM practice',
    );
    assert.deepEqual(practice.rows, [{ name: 'The Surgery', timezone: 'Europe/London' }]);
    assert.equal((await db.pool.query('SELECT 1 FROM staff')).rowCount, 1);
    const present = await tables(db);
    for (const table of ['audit_event', 'consultation', 'practice', 'schema_migration', 'staff']) {
      assert.ok(present.includes(table), table);
    }
  });

  it('does nothing when every migration has been applied', async () => {
    assert.deepEqual(await migrateDatabase(db.url), []);
  });

  it('holds the rules the schema states', async () => {
    await assert.rejects(
      db.pool.query("INSERT INTO practice (ods_code, name) VALUES ('bad code', 'X')"),
      /ods_code/,
    );
    await assert.rejects(
      db.pool.query(
        "INSERT INTO staff (practice_id, email, display_name, role, password_hash) SELECT id, 'a@b.c', 'A', 'superuser', 'x' FROM practice",
      ),
      /role/,
    );
  });
});
