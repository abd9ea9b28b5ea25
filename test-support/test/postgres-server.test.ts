import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { describe, it } from 'node:test';
import pg from 'pg';
import { cleanupStack, startPostgres, startTestDatabase } from '../src/index';

describe('startPostgres', () => {
  it('gives a migrated database that keeps a committed row through a crash, and refuses connections while down', async (t) => {
    const stack = cleanupStack(t);
    const server = await startPostgres();
    stack.after(() => server.remove());
    const db = await startTestDatabase(stack, { serverUrl: server.url });
    assert.match(db.url, new RegExp(`127\\.0\\.0\\.1:${server.port}/gpc_test_`));
    const { rows: migrated } = await db.pool.query<{ n: string }>(
      "SELECT count(*) AS n FROM information_schema.tables WHERE table_name = 'practice'",
    );
    assert.equal(migrated[0]!.n, '1');
    await db.pool.query('CREATE TABLE crash_probe (id int PRIMARY KEY)');
    await db.pool.query('INSERT INTO crash_probe VALUES (1)');

    await server.crash();
    assert.equal(server.running, false);
    const refused = new pg.Client({ connectionString: db.url, connectionTimeoutMillis: 2000 });
    refused.on('error', () => undefined);
    await assert.rejects(refused.connect(), /ECONNREFUSED/);
    await refused.end().catch(() => undefined);

    await server.up();
    assert.equal(server.running, true);
    assert.match(server.output(), /database system was interrupted|not properly shut down/);
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    const { rows } = await client.query<{ id: number }>('SELECT id FROM crash_probe');
    await client.end();
    assert.deepEqual(rows, [{ id: 1 }]);
  });

  it('remove() stops the cluster and deletes its directory, and a second remove() does nothing', async () => {
    const server = await startPostgres();
    assert.equal(existsSync(server.dir), true);
    await server.remove();
    await server.remove();
    assert.equal(server.running, false);
    assert.equal(existsSync(server.dir), false);
    const client = new pg.Client({ connectionString: server.url, connectionTimeoutMillis: 2000 });
    client.on('error', () => undefined);
    await assert.rejects(client.connect(), /ECONNREFUSED/);
  });
});
