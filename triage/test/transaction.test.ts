import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { startTestDatabase } from '@gpc/test-support';
import { withTransaction } from '../src/db/transaction';
import { isDatabaseUnavailable } from '../src/db/unavailable';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A connection lost in the middle of a transaction, between two statements: what a PostgreSQL crash
 * did to the record worker in a chaos run (its acknowledgement transaction's client emitted the
 * lost connection as an `error` event nobody heard, and the process exited 1).
 */
describe('a transaction whose connection is lost between its statements', () => {
  it('fails as the database being unavailable, commits nothing, leaves the process running and the pool serving', async (t) => {
    const db = await startTestDatabase(t);
    await db.pool.query('CREATE TABLE transaction_probe (n integer)');
    let ended: unknown;
    const unheard: unknown[] = [];
    const onUncaught = (error: unknown) => unheard.push(error);
    process.on('uncaughtException', onUncaught);
    t.after(() => process.off('uncaughtException', onUncaught));

    await withTransaction(db.pool, async (client) => {
      await client.query('INSERT INTO transaction_probe VALUES (1)');
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      // from another connection, as a crash or a restart would end it; no statement of ours is running
      await db.pool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await sleep(500);
      await client.query('INSERT INTO transaction_probe VALUES (2)');
    }).catch((error: unknown) => (ended = error));

    assert.deepEqual(unheard, [], 'no error went unheard (it would stop a service)');
    assert.ok(ended, 'the transaction failed');
    assert.ok(
      isDatabaseUnavailable(ended),
      `answered as the database unavailable: ${ended instanceof Error ? ended.message : typeof ended}`,
    );
    const { rows } = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM transaction_probe');
    assert.equal(rows[0]!.n, 0, 'nothing committed');
    assert.equal(db.pool.totalCount, db.pool.idleCount, 'the lost connection is not lent again');
  });
});
