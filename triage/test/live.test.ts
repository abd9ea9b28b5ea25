import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { StaffLive } from '@gpc/contracts';
import {
  freeTextSubmission,
  openDashboard,
  seedConsultation,
  startRedis,
  startTriage,
  waitFor,
  type SeededPractice,
} from '@gpc/test-support';
import { failFastRedisOptions, publishingSafely } from '../src/redis';

describe('live queue updates to staff dashboards, and the request detail', async () => {
  const { app, db, practiceA, practiceB, as, formId, url, ...triage } = await startTriage(
    { after },
    { live: {}, now: () => new Date('2026-07-13T09:00:00Z') },
  );
  const dashboard = (token: string) => openDashboard(triage, url, token);
  const tokenFor = (practice: SeededPractice) => as(practice, 'reception').token;

  it('tells the practice’s dashboards, and only them, when a request arrives', async () => {
    const [first, second, other] = await Promise.all([
      dashboard(tokenFor(practiceA)),
      dashboard(tokenFor(practiceA)),
      dashboard(tokenFor(practiceB)),
    ]);
    const submitted = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: freeTextSubmission(await formId('fit-note'), 'x'),
    });
    assert.equal(submitted.statusCode, 201, submitted.body);
    await waitFor('both of the practice’s dashboards told', () => first.length > 0 && second.length > 0, {
      timeoutMs: 1000,
      intervalMs: 20,
    });
    assert.equal(first.length, 1);
    assert.equal(second.length, 1);
    assert.deepEqual(
      Object.keys(first[0] as object).sort(),
      ['change', 'consultationId'],
      'ids only, no patient data',
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    assert.equal(other.length, 0, 'another practice hears nothing');
  });

  it('refuses a dashboard without a valid staff token', async () => {
    await assert.rejects(dashboard('not-a-token'), /unauthorized/);
  });

  it('shows a request in full to its own practice only, and audits the reading', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    const mine = await app.inject({
      method: 'GET',
      url: `/consultations/${id}`,
      headers: as(practiceA, 'reception').headers,
    });
    assert.equal(mine.statusCode, 200, mine.body);
    assert.equal(mine.json<{ nhsNumber: string }>().nhsNumber, '9434765919');
    const theirs = await app.inject({
      method: 'GET',
      url: `/consultations/${id}`,
      headers: as(practiceB, 'reception').headers,
    });
    assert.equal(theirs.statusCode, 404);
    const audit = await db.pool.query("SELECT 1 FROM audit_event WHERE entity_id = $1 AND action = 'view'", [
      id,
    ]);
    assert.equal(audit.rowCount, 1);
  });
});

describe('live queue updates while Redis is down', async () => {
  const redis = await startRedis();
  after(() => redis.remove());
  const publisher = new Redis(redis.url, failFastRedisOptions);
  const subscriber = new Redis(redis.url, { retryStrategy: failFastRedisOptions.retryStrategy });
  // as server.ts: each client's outage is handled (logged there), never an unhandled 'error'
  for (const client of [publisher, subscriber]) client.on('error', () => undefined);
  after(() => {
    publisher.disconnect();
    subscriber.disconnect();
  });
  await Promise.all([publisher, subscriber].map((client) => new Promise((ok) => client.once('ready', ok))));
  const warnings: string[] = [];
  const logger = { warn: (_details: unknown, message: string) => warnings.push(message) };
  const { app, practiceA, as, formId, url, ...triage } = await startTriage(
    { after },
    {
      live: {
        adapter: createAdapter(publishingSafely(publisher, logger as never), subscriber, {
          key: StaffLive.redisKey,
        }),
      },
    },
  );
  // a live publish that rejects unhandled makes node exit; seen here instead of swallowed
  const unhandled: unknown[] = [];
  const seeUnhandled = (reason: unknown) => unhandled.push(reason);
  process.on('unhandledRejection', seeUnhandled);
  after(() => process.off('unhandledRejection', seeUnhandled));

  it('still answers the close and the submission that caused a live publish Redis could not take', async () => {
    const dashboard = await openDashboard(triage, url, as(practiceA, 'reception').token);
    const id = await seedConsultation(triage.db.pool, practiceA.id);
    await redis.down();
    await waitFor('the publisher to see Redis gone', () => publisher.status !== 'ready', { timeoutMs: 5000 });

    const started = Date.now();
    const closed = await app.inject({
      method: 'POST',
      url: `/consultations/${id}/close`,
      headers: as(practiceA, 'clinician').headers,
      payload: { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'Reviewed.' },
    });
    assert.equal(closed.statusCode, 200, closed.body);
    const submitted = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: freeTextSubmission(await formId('fit-note'), 'x'),
    });
    assert.equal(submitted.statusCode, 201, submitted.body);
    assert.ok(Date.now() - started < 2000, 'neither waited for Redis');

    await waitFor('the failed publishes to settle', () => warnings.length > 0, { timeoutMs: 5000 });
    assert.deepEqual(unhandled, [], 'no publish rejected unhandled');
    assert.deepEqual(
      warnings,
      ['live updates are not reaching other replicas while Redis is down'],
      'said once',
    );
    // this replica's own dashboards still hear of it
    await waitFor('the local dashboard told', () => dashboard.length >= 2, { timeoutMs: 2000 });
  });
});
