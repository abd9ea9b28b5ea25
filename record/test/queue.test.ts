import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import { startRedis } from '@gpc/test-support';
import { testRedisUrl as redisUrl, testServerUrl as databaseUrl } from '@gpc/test-support';
import { buildRecordApp } from '../src/app';
import { writeBackJobId } from '@gpc/contracts';
import { FhirSendError } from '../src/fhir/client';
import {
  createWriteBackQueue,
  enqueueWriteBack,
  PracticeBusy,
  requeueWriteBack,
  writeBackDelay,
  WriteBackRetry,
  type WriteBackQueue,
} from '../src/queue';
import { createWriteBackAnnouncer } from '../src/staff-live';

describe('write-back queue on the real Redis', () => {
  let queue: WriteBackQueue;
  let pool: pg.Pool;

  before(() => {
    // a prefix of its own, so this test never sees another run's jobs
    queue = createWriteBackQueue(redisUrl, { prefix: `gpc-test-${randomUUID()}` });
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
    const job = { consultationId: randomUUID(), practiceId: randomUUID() };
    await enqueueWriteBack(queue, job);
    await enqueueWriteBack(queue, job);
    const waiting = await queue.getWaiting();
    assert.equal(waiting.length, 1);
    assert.deepEqual(waiting[0]?.data, job);
    assert.equal(waiting[0]?.id, writeBackJobId(job));
  });

  it('replaces a finished job when a write-back is queued again, and leaves a waiting one alone', async () => {
    await queue.empty();
    const job = { consultationId: randomUUID(), practiceId: randomUUID() };
    await enqueueWriteBack(queue, job);
    assert.equal(await requeueWriteBack(queue, job), false, 'already waiting');
    // a worker takes it and the GP system refuses it for good
    const taken = await queue.getNextJob();
    assert.equal(taken?.id, writeBackJobId(job));
    void taken?.discard();
    await taken?.moveToFailed({ message: 'refused' });
    assert.equal(await taken?.getState(), 'failed');
    assert.equal(await requeueWriteBack(queue, job), true);
    assert.equal(await (await queue.getJob(writeBackJobId(job)))?.getState(), 'waiting');
    await (await queue.getJob(writeBackJobId(job)))?.remove();
  });

  it('backs off exponentially with jitter, and as long as Retry-After says', () => {
    const policy = { baseDelayMs: 1000, maxDelayMs: 60_000 };
    assert.equal(
      writeBackDelay(1, new Error('x'), policy, () => 0),
      500,
    );
    assert.equal(
      writeBackDelay(1, new Error('x'), policy, () => 1),
      1000,
    );
    assert.equal(
      writeBackDelay(4, new Error('x'), policy, () => 1),
      8000,
    );
    assert.equal(
      writeBackDelay(20, new Error('x'), policy, () => 1),
      60_000,
      'capped',
    );
    const later = new FhirSendError('429', true, 429, 30_000);
    assert.equal(
      writeBackDelay(1, later, policy, () => 0),
      30_000,
    );
    assert.equal(
      writeBackDelay(1, new FhirSendError('429', true, 429, 3_600_000), policy, () => 0),
      60_000,
    );
    // bull's count includes hand-backs: the worker's own attempt number is what backs off
    assert.equal(
      writeBackDelay(40, new WriteBackRetry('503', 2), policy, () => 1),
      2000,
    );
    assert.equal(
      writeBackDelay(40, new WriteBackRetry('429', 2, 7000), policy, () => 0),
      7000,
    );
    const handBack = writeBackDelay(40, new PracticeBusy(), policy, Math.random);
    assert.ok(handBack >= 250 && handBack <= 750, 'a handed-back job comes back soon');
  });

  it('reports health with the queue depth', async () => {
    await enqueueWriteBack(queue, { consultationId: randomUUID(), practiceId: randomUUID() });
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

  it('is ready while PostgreSQL and Redis answer, and names PostgreSQL when it does not, while staying live', async () => {
    const app = buildRecordApp({ queue, pool });
    const ready = await app.inject({ method: 'GET', url: '/readyz' });
    assert.equal(ready.statusCode, 200, ready.body);
    assert.deepEqual(ready.json(), { status: 'ready', database: 'ok', redis: 'ok' });
    await app.close();

    const deadPool = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 500,
    });
    const withoutDatabase = buildRecordApp({ queue, pool: deadPool });
    const notReady = await withoutDatabase.inject({ method: 'GET', url: '/readyz' });
    assert.equal(notReady.statusCode, 503);
    // still live: an orchestrator's liveness probe must not restart a worker for PostgreSQL's outage
    const live = await withoutDatabase.inject({ method: 'GET', url: '/healthz' });
    assert.equal(live.statusCode, 200);
    assert.deepEqual(live.json(), { status: 'live' });
    const body = notReady.json<{ code: string; message: string; down: string[] }>();
    assert.equal(body.code, 'unavailable');
    assert.deepEqual(body.down, ['database']);
    assert.match(body.message, /PostgreSQL is not answering/);
    await withoutDatabase.close();
    await deadPool.end();
  });

  it('announces write-back changes while Redis is away without throwing or leaving a failure unhandled, and says not ready naming Redis', async () => {
    const redis = await startRedis();
    const own = createWriteBackQueue(redis.url, { prefix: `gpc-test-${randomUUID()}` });
    const unhandled: unknown[] = [];
    const note = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', note);
    try {
      assert.equal(await own.client.ping(), 'PONG');
      await redis.down();
      const announce = createWriteBackAnnouncer(own.client, pino({ level: 'silent' }));
      // announcing never waits for Redis: it returns at once, with nothing to await (a timing is no proof
      // on a busy machine; the shape of the call is)
      for (let i = 0; i < 20; i++)
        assert.equal(
          announce({ consultationId: randomUUID(), practiceId: randomUUID() }),
          undefined,
          'announcing returns nothing to wait on',
        );
      // the command connection gives up on a command within a failed reconnect or two, rather than hang
      // (this test's timeout is the bound)
      await assert.rejects(own.getJobCounts(), 'a queue command fails rather than hangs');
      const app = buildRecordApp({ queue: own, pool });
      const notReady = await app.inject({ method: 'GET', url: '/readyz' });
      assert.equal(notReady.statusCode, 503);
      assert.deepEqual(notReady.json<{ down: string[] }>().down, ['redis']);
      await app.close();
      await new Promise((resolve) => setTimeout(resolve, 500));
      assert.deepEqual(unhandled, []);
    } finally {
      process.off('unhandledRejection', note);
      await redis.up();
      await own.close();
      await redis.remove();
    }
  });
});
