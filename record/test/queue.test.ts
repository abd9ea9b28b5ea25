import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { buildRecordApp } from '../src/app';
import { createWriteBackQueue, enqueueWriteBack, type WriteBackQueue } from '../src/queue';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const databaseUrl = process.env.TEST_DATABASE_URL ?? 'postgres://postgres:postgres@127.0.0.1:5432/postgres';

describe('write-back queue on the real Redis', () => {
  let queue: WriteBackQueue;
  let pool: pg.Pool;

  before(() => {
    // a prefix of its own, so this test never sees another run's jobs
    queue = createWriteBackQueue(redisUrl, `gpc-test-${randomUUID()}`);
    pool = new pg.Pool({ connectionString: databaseUrl, max: 2 });
  });

  after(async () => {
    await queue.obliterate({ force: true });
    await queue.close();
    await pool.end();
  });

  it('answers PING', async () => {
    assert.equal(await queue.client.ping(), 'PONG');
  });

  it('enqueues a consultation once however often it is closed', async () => {
    const consultationId = randomUUID();
    await enqueueWriteBack(queue, consultationId);
    await enqueueWriteBack(queue, consultationId);
    const waiting = await queue.getWaiting();
    assert.equal(waiting.length, 1);
    assert.deepEqual(waiting[0]?.data, { consultationId });
  });

  it('reports health with the queue depth', async () => {
    const app = buildRecordApp({ queue, pool });
    const response = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(response.statusCode, 200);
    const body = response.json<{ status: string; jobs: { waiting: number } }>();
    assert.equal(body.status, 'ok');
    assert.equal(body.jobs.waiting, 1);
    await app.close();
  });

  it('reports 503 when PostgreSQL does not answer', async () => {
    const deadPool = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 500,
    });
    const app = buildRecordApp({ queue, pool: deadPool });
    const response = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(response.statusCode, 503);
    assert.equal(response.json<{ code: string }>().code, 'unavailable');
    await app.close();
    await deadPool.end();
  });
});
