import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { writeBackJobId } from '@gpc/contracts';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { createWriteBackAnnouncer } from '@gpc/record';
import { createNotificationQueue } from '@gpc/triage';
import { createWriteBackQueue, requeueWriteBack } from '@gpc/record/queue';
import { listUntouchedPending } from '@gpc/record/write-back';
import {
  freePort,
  freeTextSubmission,
  openDashboard,
  seedConsultation,
  seedPractice,
  startRedis,
  processStaffToken,
  spawnTriageProcess,
  startTestDatabase,
  waitFor,
  waitForTriageProcess,
  type ChildService,
  type RedisServer,
  type SeededPractice,
  type TestDatabase,
} from '@gpc/test-support';

/**
 * Triage as production runs it (`triage/src/server.ts`, its own process) on a database and a
 * Redis of the test's own, the Redis killed under load. In `npm test` it stays down 10 s; the
 * full-length outage: `GPC_REDIS_OUTAGE_MS=30000 node --import tsx --test triage/test/redis-outage.test.ts`.
 */
const outageMs = Number(process.env.GPC_REDIS_OUTAGE_MS ?? 10_000);

interface World {
  db: TestDatabase;
  redis: RedisServer;
  practice: SeededPractice;
  triage: ChildService;
  url: string;
}

async function startWorld(options: { redisDownAtBoot?: true } = {}): Promise<World> {
  const db = await startTestDatabase({ after });
  const practice = await seedPractice(db.pool, 'A81001');
  // the form takes requests whatever the hour the test runs at
  await db.pool.query(`UPDATE practice SET out_of_hours = 'open'`);
  const redis = await startRedis();
  after(() => redis.remove());
  if (options.redisDownAtBoot) await redis.down();
  const port = await freePort();
  const triage = spawnTriageProcess({
    TRIAGE_PORT: String(port),
    TRIAGE_DATABASE_URL: db.url,
    TRIAGE_REDIS_URL: redis.url,
  });
  after(() => triage.stop());
  const url = `http://127.0.0.1:${port}`;
  await waitForTriageProcess(triage, url);
  return { db, redis, practice, triage, url };
}

async function readiness(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/readyz`);
  return { status: response.status, body: await response.json() };
}

const closeBody = JSON.stringify({
  outcomeCode: '182836005',
  outcomeDisplay: 'Review of medication',
  summary: 'Medication reviewed; no change.',
});

describe('triage through a Redis outage, as its own process', () => {
  it('keeps answering closes and submissions while Redis is down, loses none, says it is not ready, and has every owed write-back queued once when Redis is back', async () => {
    const { db, redis, practice, triage, url } = await startWorld();
    assert.equal((await readiness(url)).status, 200);
    const token = processStaffToken(practice);
    const forms = (await (await fetch(`${url}/practices/${practice.odsCode}`)).json()) as {
      forms: { id: string; slug: string }[];
    };
    const formId = forms.forms.find((form) => form.slug === 'fit-note')!.id;
    const toClose = await Promise.all(
      Array.from({ length: 60 }, () => seedConsultation(db.pool, practice.id)),
    );

    let phase: 'before' | 'outage' | 'after' = 'before';
    let running = true;
    const closes: { id: string; status: number; ms: number; phase: string }[] = [];
    const submissions: { status: number; reference?: string; phase: string }[] = [];
    const ready: { status: number; body: unknown; phase: string }[] = [];
    const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
    const closing = (async () => {
      for (const id of toClose) {
        if (!running) break;
        const at = phase;
        const started = Date.now();
        const response = await fetch(`${url}/consultations/${id}/close`, {
          method: 'POST',
          headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
          body: closeBody,
        });
        await response.arrayBuffer();
        closes.push({ id, status: response.status, ms: Date.now() - started, phase: at });
        await pause(outageMs / 40);
      }
    })();
    // the public form allows 20 a minute from one address: this pace stays under it
    const submissionEveryMs = Math.max(1500, (outageMs + 6000) / 18);
    const submitting = (async () => {
      while (running) {
        const at = phase;
        const response = await fetch(`${url}/practices/${practice.odsCode}/submissions`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify(freeTextSubmission(formId, 'x')),
        });
        const body = (await response.json()) as { reference?: string };
        submissions.push({
          status: response.status,
          ...(body.reference ? { reference: body.reference } : {}),
          phase: at,
        });
        await pause(submissionEveryMs);
      }
    })();
    const probing = (async () => {
      while (running) {
        const at = phase;
        ready.push({ ...(await readiness(url)), phase: at });
        await pause(250);
      }
    })();

    // a dashboard open throughout, reconnecting when asked as the web dashboard does
    const dashboard = await openDashboard({ after }, url, token, { reconnectWhenAsked: true });
    await pause(1500);
    phase = 'outage';
    await redis.down();
    await pause(outageMs);
    await redis.up();
    phase = 'after';
    await waitFor('triage ready again', async () => (await readiness(url)).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    await pause(1500);
    running = false;
    await Promise.all([closing, submitting, probing]);

    assert.equal(triage.child.exitCode, null, `triage never exited: ${triage.output()}`);
    assert.ok(
      closes.some((close) => close.phase === 'outage'),
      'closes were made during the outage',
    );
    assert.ok(
      submissions.some((submission) => submission.phase === 'outage'),
      'and submissions',
    );
    assert.deepEqual(
      closes.filter((close) => close.status !== 200),
      [],
      'every close answered 200',
    );
    assert.deepEqual(
      submissions.filter((submission) => submission.status !== 201),
      [],
      'every submission answered 201',
    );
    const slowest = Math.max(...closes.map((close) => close.ms));
    assert.ok(slowest < 2000, `no close waited for Redis (slowest ${slowest} ms)`);

    // nothing answered is missing
    const references = submissions.map((submission) => submission.reference!);
    const stored = await db.pool.query<{ reference: string }>(
      'SELECT reference FROM consultation WHERE reference = ANY($1)',
      [references],
    );
    assert.equal(stored.rowCount, references.length, 'every submission answered 201 is in the database');
    const closed = closes.map((close) => close.id);
    const owed = await db.pool.query<{ consultation_id: string }>(
      'SELECT consultation_id FROM write_back WHERE consultation_id = ANY($1)',
      [closed],
    );
    assert.equal(owed.rowCount, closed.length, 'every close answered 200 has its write-back');

    // /readyz told the truth
    assert.ok(
      ready.some(
        (probe) =>
          probe.phase === 'outage' &&
          probe.status === 503 &&
          JSON.stringify(probe.body) ===
            JSON.stringify({
              code: 'unavailable',
              message: 'not ready: Redis is not answering',
              down: ['redis'],
            }),
      ),
      'not ready, naming Redis, during the outage',
    );
    assert.ok(ready.filter((probe) => probe.phase === 'before').every((probe) => probe.status === 200));
    assert.equal((await readiness(url)).status, 200, 'ready after');

    // the record worker's sweep (its own functions) queues what the outage left pending: each once
    const queue = createWriteBackQueue(redis.url);
    after(() => queue.close());
    for (const job of await listUntouchedPending(db.pool, { untouchedForMs: 0, limit: 1000 })) {
      await requeueWriteBack(queue, job);
    }
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'paused']);
    const queued = jobs.map((job) => job.data.consultationId).sort();
    assert.deepEqual(queued, [...closed].sort(), 'every closed request’s write-back queued, exactly once');
    assert.deepEqual(
      jobs.map((job) => String(job.id)).sort(),
      [...closed].map((id) => writeBackJobId({ consultationId: id, practiceId: practice.id })).sort(),
    );

    // live updates across replicas resume: the dashboard hears what the record worker announces
    const announcer = new Redis(redis.url);
    after(() => announcer.disconnect());
    const announce = createWriteBackAnnouncer(announcer, pino({ level: 'silent' }));
    await waitFor(
      'the dashboard to hear the record worker through Redis again',
      () => {
        announce({ consultationId: closed[0]!, practiceId: practice.id });
        return dashboard.some((change) => change.consultationId === closed[0] && change.change === 'updated');
      },
      { timeoutMs: 10_000, intervalMs: 250 },
    );

    const output = triage.output();
    assert.match(output, /Redis is down/, 'the outage is logged');
    assert.match(output, /Redis is back/, 'and the return');
    assert.doesNotMatch(output, /missing 'error' handler|Unhandled error event/);
  });

  it('starts and serves while Redis is down, not ready until it answers, then queues as usual', async () => {
    const { db, redis, practice, triage, url } = await startWorld({ redisDownAtBoot: true });
    assert.deepEqual(await readiness(url), {
      status: 503,
      body: { code: 'unavailable', message: 'not ready: Redis is not answering', down: ['redis'] },
    });
    const token = processStaffToken(practice);
    const close = async (id: string) => {
      const response = await fetch(`${url}/consultations/${id}/close`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: closeBody,
      });
      return response.status;
    };
    const whileDown = await seedConsultation(db.pool, practice.id);
    assert.equal(await close(whileDown), 200, 'a close answers while Redis is down');
    assert.match(triage.output(), /serving without Redis|Redis is down/);
    // a dashboard connected while Redis is down is served by this replica alone
    const dashboard = await openDashboard({ after }, url, token, { reconnectWhenAsked: true });

    await redis.up();
    await waitFor('triage ready', async () => (await readiness(url)).status === 200, {
      timeoutMs: 20_000,
      intervalMs: 250,
    });
    const afterUp = await seedConsultation(db.pool, practice.id);
    assert.equal(await close(afterUp), 200);
    const queue = createWriteBackQueue(redis.url);
    after(() => queue.close());
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'paused']);
    assert.deepEqual(
      jobs.map((job) => job.data.consultationId),
      [afterUp],
      'queued by the close itself once Redis answers (the one closed while down waits for the sweep)',
    );
    // and hears, through Redis once it answers, what the record worker announces
    const announcer = new Redis(redis.url);
    after(() => announcer.disconnect());
    const announce = createWriteBackAnnouncer(announcer, pino({ level: 'silent' }));
    await waitFor(
      'the dashboard connected during the outage to hear the record worker through Redis',
      () => {
        announce({ consultationId: whileDown, practiceId: practice.id });
        return dashboard.some((change) => change.consultationId === whileDown);
      },
      { timeoutMs: 10_000, intervalMs: 250 },
    );
    assert.equal(triage.child.exitCode, null);
    assert.doesNotMatch(triage.output(), /stopped taking jobs/);
    // the notification sender, started while Redis was down, is waiting for jobs on it
    const notifications = createNotificationQueue(redis.url);
    after(() => notifications.close());
    await waitFor(
      'the notification sender to take jobs',
      async () => (await notifications.getWorkers()).length > 0,
      { timeoutMs: 10_000, intervalMs: 250 },
    );
  });
});
