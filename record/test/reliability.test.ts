import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import { defaultTokenIssuer } from '@gpc/contracts';
import { buildTriageApp, generateSigningKey, TokenKeys } from '@gpc/triage';
import {
  allCompositions,
  freePort,
  seedPractice,
  signedIn,
  startFaultProxy,
  startLocalFhir,
  startRedis,
  startTestDatabase,
  testRedisUrl as sharedRedisUrl,
  waitFor,
  writeBacksTo,
  type ChildService,
  type FaultAction,
  type FaultProxy,
  type SeededPractice,
  localOutbound,
} from '@gpc/test-support';
import { CONSULTATION_SYSTEM } from '../src/fhir/identifiers';
import { FhirClient } from '../src/fhir/client';
import { createWriteBackQueue, type WriteBackQueue } from '../src/queue';
import { startWriteBackWorker } from '../src/worker';
import { spawnRecordWorker } from './support/processes';

const batch = 500;
const silent = pino({ level: 'silent' });

/**
 * The promise this service exists to keep: every closed consultation's summary reaches the GP
 * record exactly once, whatever the GP system, the worker or Redis does meanwhile.
 */
describe('write-back reliability: 500 summaries, each filed exactly once (real PostgreSQL, Redis, FHIR server)', async () => {
  const db = await startTestDatabase({ after });
  let practiceCount = 0;

  /** The record worker in this process, retrying a GP system that misbehaves for a while. */
  const startWorker = (
    queue: WriteBackQueue,
    timings: { fhirTimeoutMs: number; sweepIntervalMs: number; sweepAfterMs: number },
  ) =>
    startWriteBackWorker({
      queue,
      pool: db.pool,
      fhir: new FhirClient({ timeoutMs: timings.fhirTimeoutMs, outbound: localOutbound }),
      readDocument: () => Promise.reject(new Error('no attachments here')),
      logger: silent,
      concurrency: 10,
      practiceConcurrency: 10, // one practice: these tests are about faults, not fairness
      maxAttempts: 200,
      sweepIntervalMs: timings.sweepIntervalMs,
      sweepAfterMs: timings.sweepAfterMs,
    });

  interface Scenario {
    practice: SeededPractice;
    fhirBase: string;
    proxy: FaultProxy;
    prefix: string;
    ids: string[];
    cleanup: () => Promise<void>;
  }

  /**
   * A practice whose GP system is a fresh local FHIR server behind a fault proxy, and `batch`
   * requests closed by a clinician through the real triage route (which queues the write-backs).
   */
  async function scenario(redisUrl: string, count = batch): Promise<Scenario> {
    practiceCount++;
    const practice = await seedPractice(db.pool, `R${String(practiceCount).padStart(5, '0')}`);
    const fhir = await startLocalFhir();
    const proxy = await startFaultProxy(fhir.base);
    // nothing reaches the GP system until the test says so
    proxy.setRule(() => ({ kind: 'status', status: 503, text: 'not yet' }));
    await db.pool.query('UPDATE practice SET fhir_base_url = $2 WHERE id = $1', [practice.id, proxy.url]);
    const { rows } = await db.pool.query<{ id: string }>(
      // patients whose identity is confirmed (a verified trace, confirmed by staff): only they are filed
      `INSERT INTO consultation (practice_id, reference, kind, patient_given_name, patient_family_name, patient_birth_date,
         patient_nhs_number, identity_status, identity_confirmed_at, identity_confirmed_nhs_number)
       SELECT $1, 'GPC-R' || $2 || lpad(n::text, 5, '0'), 'medical', 'Pat', 'Example', '1980-02-03', '9434765919',
              'verified', now(), '9434765919'
         FROM generate_series(1, $3) AS n RETURNING id`,
      [practice.id, String(practiceCount), count],
    );
    const ids = rows.map((row) => row.id);

    const prefix = `gpc-test-${randomUUID()}`;
    const producer = createWriteBackQueue(redisUrl, { prefix });
    const triage: FastifyInstance = await buildTriageApp({
      pool: db.pool,
      tokenKeys: new TokenKeys([generateSigningKey()], defaultTokenIssuer),
      writeBack: writeBacksTo(producer),
      rateLimitAllowList: ['127.0.0.1'],
    });
    const { headers } = signedIn(triage, practice, 'clinician');
    for (let i = 0; i < ids.length; i += 25) {
      await Promise.all(
        ids.slice(i, i + 25).map(async (id) => {
          const closed = await triage.inject({
            method: 'POST',
            url: `/consultations/${id}/close`,
            headers,
            payload: { outcomeCode: '11429006', outcomeDisplay: 'Consultation', summary: `Summary of ${id}` },
          });
          assert.equal(closed.statusCode, 200, closed.body);
        }),
      );
    }
    await triage.close();
    await producer.close();
    return {
      practice,
      fhirBase: fhir.base,
      proxy,
      prefix,
      ids,
      async cleanup() {
        const queue = createWriteBackQueue(redisUrl, { prefix });
        await queue.obliterate({ force: true }).catch(() => undefined);
        await queue.close();
        await proxy.close();
        await fhir.server.close();
      },
    };
  }

  const filedCount = async (practiceId: string): Promise<number> => {
    const { rows } = await db.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM write_back WHERE practice_id = $1 AND status = 'filed'`,
      [practiceId],
    );
    return rows[0]!.n;
  };

  /** Waits until the count of the scenario's filed write-backs is `enough`. */
  const filedWhen = (what: string, s: Scenario, enough: (filed: number) => boolean, timeoutMs: number) =>
    waitFor(what, async () => enough(await filedCount(s.practice.id)), { timeoutMs, intervalMs: 100 });

  const allFiled = (s: Scenario, timeoutMs: number) =>
    filedWhen('every write-back filed', s, (n) => n === s.ids.length, timeoutMs);

  /** Searches the GP record: each consultation's Composition and Encounter once, and nothing else. */
  async function assertFiledExactlyOnce(s: Scenario): Promise<void> {
    const expected = s.ids.length;
    const compositions = await allCompositions(s.fhirBase);
    const perConsultation = new Map<string, number>();
    for (const composition of compositions) {
      const own =
        composition.identifier?.system === CONSULTATION_SYSTEM ? composition.identifier.value : undefined;
      if (own) perConsultation.set(own, (perConsultation.get(own) ?? 0) + 1);
    }
    assert.equal(
      compositions.length,
      expected,
      `${compositions.length} Compositions for ${expected} consultations`,
    );
    assert.deepEqual(
      s.ids.filter((id) => perConsultation.get(id) !== 1),
      [],
      'every consultation has exactly one Composition',
    );
    const encounters = (await (await fetch(`${s.fhirBase}/Encounter?_summary=count`)).json()) as {
      total: number;
    };
    assert.equal(encounters.total, expected);
    const states = await db.pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM write_back WHERE practice_id = $1 GROUP BY status`,
      [s.practice.id],
    );
    assert.deepEqual(states.rows, [{ status: 'filed', n: expected }]);
  }

  it('files each exactly once while the GP system answers 503, then times out, then loses answers, then recovers', async () => {
    const s = await scenario(sharedRedisUrl);
    const queue = createWriteBackQueue(sharedRedisUrl, {
      prefix: s.prefix,
      retry: { baseDelayMs: 200, maxDelayMs: 2000 },
      perPracticeLimit: { max: 10_000, durationMs: 1000 },
    });
    const worker = startWorker(queue, { fhirTimeoutMs: 500, sweepIntervalMs: 0, sweepAfterMs: 60_000 });
    try {
      const started = Date.now();
      let n = 0;
      s.proxy.setRule((): FaultAction => {
        const elapsed = Date.now() - started;
        n++;
        if (elapsed < 3000)
          return n % 2
            ? { kind: 'status', status: 503, retryAfter: '1', text: 'busy' }
            : { kind: 'status', status: 503 };
        if (elapsed < 5000) return { kind: 'hang' };
        if (elapsed < 7000) return n % 3 === 0 ? { kind: 'lose-answer' } : { kind: 'status', status: 502 };
        return n % 4 === 0 ? { kind: 'lose-answer' } : { kind: 'pass' };
      });
      await allFiled(s, 120_000);
      const seen = new Set(s.proxy.requests.map((request) => request.action));
      for (const action of ['status', 'hang', 'lose-answer', 'pass'])
        assert.ok(seen.has(action as never), action);
      await assertFiledExactlyOnce(s);
    } finally {
      await worker.close();
      await s.cleanup();
    }
  });

  it('files each exactly once when the worker is stopped mid-batch, then killed mid-batch, and restarted', async () => {
    const s = await scenario(sharedRedisUrl);
    const env = {
      RECORD_DATABASE_URL: db.url,
      RECORD_REDIS_URL: sharedRedisUrl,
      RECORD_QUEUE_PREFIX: s.prefix,
      RECORD_CONCURRENCY: '10',
      RECORD_MAX_ATTEMPTS: '200',
      RECORD_RETRY_BASE_DELAY_MS: '200',
      RECORD_RETRY_MAX_DELAY_MS: '2000',
      RECORD_FHIR_TIMEOUT_MS: '3000',
      RECORD_PRACTICE_RATE_MAX: '10000',
      // a dead worker's jobs are taken over within a few seconds
      RECORD_LOCK_DURATION_MS: '2000',
      RECORD_STALLED_INTERVAL_MS: '1000',
      RECORD_SWEEP_INTERVAL_MS: '1000',
      RECORD_SWEEP_AFTER_MS: '10000',
    };
    // slow enough that the batch is mid-way when the worker goes
    s.proxy.setRule(() => ({ kind: 'delay', ms: 40 }));
    const workers: ChildService[] = [];
    try {
      const first = spawnRecordWorker(env);
      workers.push(first);
      await filedWhen('a first hundred filed', s, (n) => n >= 100, 60_000);
      assert.equal(await first.stop(), 0, `graceful stop exits 0: ${first.output()}`);
      const queue = createWriteBackQueue(sharedRedisUrl, { prefix: s.prefix });
      try {
        assert.equal((await queue.getJobCounts()).active, 0, 'a graceful stop finishes or returns its jobs');
      } finally {
        await queue.close();
      }
      const afterStop = await filedCount(s.practice.id);
      assert.ok(afterStop < batch, 'stopped mid-batch');

      const second = spawnRecordWorker(env);
      workers.push(second);
      await filedWhen('more filed', s, (n) => n >= afterStop + 100, 60_000);
      await second.kill();
      const afterKill = await filedCount(s.practice.id);
      assert.ok(afterKill < batch, 'killed mid-batch');

      const third = spawnRecordWorker(env);
      workers.push(third);
      await allFiled(s, 120_000);
      assert.equal(await third.stop(), 0, `graceful stop exits 0: ${third.output()}`);
      await assertFiledExactlyOnce(s);
    } finally {
      for (const worker of workers) await worker.kill();
      await s.cleanup();
    }
  });

  /** The worker's environment for a scenario: quick retries, and a lost job taken over within seconds. */
  const processEnv = (s: Scenario, redisUrl: string, port: number) => ({
    RECORD_DATABASE_URL: db.url,
    RECORD_REDIS_URL: redisUrl,
    RECORD_QUEUE_PREFIX: s.prefix,
    RECORD_PORT: String(port),
    RECORD_LOG_LEVEL: 'info',
    RECORD_CONCURRENCY: '10',
    RECORD_MAX_ATTEMPTS: '200',
    RECORD_RETRY_BASE_DELAY_MS: '200',
    RECORD_RETRY_MAX_DELAY_MS: '2000',
    RECORD_FHIR_TIMEOUT_MS: '3000',
    RECORD_PRACTICE_RATE_MAX: '10000',
    RECORD_LOCK_DURATION_MS: '2000',
    RECORD_STALLED_INTERVAL_MS: '1000',
    RECORD_SWEEP_INTERVAL_MS: '1000',
    RECORD_SWEEP_AFTER_MS: '5000',
  });

  /** The worker's `/readyz`: its status and what it names as down. */
  const readiness = async (port: number) => {
    const response = await fetch(`http://127.0.0.1:${port}/readyz`);
    return { status: response.status, down: ((await response.json()) as { down?: string[] }).down };
  };
  const listening = (worker: ChildService, port: number) =>
    waitFor(
      () => `the worker to listen: ${worker.output()}`,
      async () => (await fetch(`http://127.0.0.1:${port}/readyz`).catch(() => undefined)) !== undefined,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
  const assertAlive = (worker: ChildService) =>
    assert.equal(worker.child.exitCode, null, `the worker exited: ${worker.output()}`);
  /** Logged once as the outage starts and once as it ends, never a missing error handler. */
  const assertOutageLoggedPlainly = (worker: ChildService) => {
    const output = worker.output();
    assert.doesNotMatch(output, /missing 'error' handler|unhandled/i);
    const errors = output.split('\n').filter((line) => line.includes('Redis unreachable')).length;
    assert.ok(errors >= 1 && errors <= 3, `${errors} 'Redis unreachable' lines: ${output.slice(-3000)}`);
  };

  it('files each exactly once when Redis crashes (SIGKILL) mid-batch, stays down 10 s and comes back from its append-only file, the worker process running and not ready throughout', async () => {
    const redis = await startRedis();
    const s = await scenario(redis.url);
    const port = await freePort();
    const worker = spawnRecordWorker(processEnv(s, redis.url, port));
    try {
      s.proxy.setRule(() => ({ kind: 'delay', ms: 30 }));
      await filedWhen('150 filed', s, (n) => n >= 150, 60_000);
      assert.equal((await readiness(port)).status, 200, 'ready while both answer');
      await redis.down();
      const downAt = Date.now();
      await waitFor('not ready once Redis is down', async () => (await readiness(port)).status === 503, {
        timeoutMs: 5000,
        intervalMs: 100,
      });
      assert.ok((await filedCount(s.practice.id)) < batch, 'Redis went down mid-batch');
      while (Date.now() - downAt < 10_000) {
        assertAlive(worker);
        assert.deepEqual(await readiness(port), { status: 503, down: ['redis'] });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      await redis.up();
      // reconnecting promptly, not after a backoff grown through the outage
      await waitFor(
        'ready within 5 s of Redis coming back',
        async () => (await readiness(port)).status === 200,
        {
          timeoutMs: 5000,
          intervalMs: 200,
        },
      );
      await allFiled(s, 120_000);
      await assertFiledExactlyOnce(s);
      assertAlive(worker);
      assertOutageLoggedPlainly(worker);
    } finally {
      await worker.kill();
      await s.cleanup();
      await redis.remove();
    }
  });

  it('files each exactly once when Redis crashes mid-batch and comes back empty (a failover without its data), its sweep queueing again every write-back whose job was lost', async () => {
    const redis = await startRedis();
    const s = await scenario(redis.url, 100);
    const port = await freePort();
    const worker = spawnRecordWorker(processEnv(s, redis.url, port));
    try {
      s.proxy.setRule(() => ({ kind: 'delay', ms: 30 }));
      await filedWhen('40 filed', s, (n) => n >= 40, 60_000);
      await redis.down();
      const filedBefore = await filedCount(s.practice.id);
      assert.ok(filedBefore < s.ids.length, 'Redis went down mid-batch');
      // every job it held is gone: nothing but the outbox rows says what is owed
      await redis.up({ empty: true });
      await waitFor('ready once Redis is back', async () => (await readiness(port)).status === 200, {
        timeoutMs: 15_000,
        intervalMs: 200,
      });
      await allFiled(s, 120_000);
      // a few sweeps more: nothing is filed twice
      await new Promise((resolve) => setTimeout(resolve, 3000));
      await assertFiledExactlyOnce(s);
      assertAlive(worker);
      assert.match(worker.output(), /queued again/i, 'the sweep says it queued lost write-backs');
      assertOutageLoggedPlainly(worker);
    } finally {
      await worker.kill();
      await s.cleanup();
      await redis.remove();
    }
  });

  it('starts while Redis is down, says not ready naming Redis, and files every pending write-back exactly once when it comes up', async () => {
    const redis = await startRedis();
    const s = await scenario(redis.url, 40);
    const port = await freePort();
    // the jobs are queued; Redis goes before any worker runs (its append-only file keeps them, or
    // the sweep queues again what it lost)
    await redis.down();
    const worker = spawnRecordWorker(processEnv(s, redis.url, port));
    try {
      s.proxy.setRule(() => ({ kind: 'pass' }));
      await listening(worker, port);
      // longer than bull's start takes to give up on a Redis that is away
      const downAt = Date.now();
      while (Date.now() - downAt < 6000) {
        assertAlive(worker);
        assert.deepEqual(await readiness(port), { status: 503, down: ['redis'] });
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
      assert.equal(await filedCount(s.practice.id), 0);
      assert.match(worker.output(), /Redis unreachable at start/);
      await redis.up();
      await waitFor('ready once Redis is up', async () => (await readiness(port)).status === 200, {
        timeoutMs: 15_000,
        intervalMs: 200,
      });
      await allFiled(s, 60_000);
      await assertFiledExactlyOnce(s);
      assertAlive(worker);
      assert.doesNotMatch(worker.output(), /missing 'error' handler|unhandled/i);
    } finally {
      await worker.kill();
      await s.cleanup();
      await redis.remove();
    }
  });
});
