import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { defaultTokenIssuer } from '@gpc/contracts';
import { buildTriageApp, generateSigningKey, TokenKeys } from '@gpc/triage';
import {
  allCompositions,
  cleanupStack,
  freePort,
  seedPractice,
  signedIn,
  startFaultProxy,
  startLocalFhir,
  startPostgres,
  startTestDatabase,
  testRedisUrl,
  waitFor,
  writeBacksTo,
} from '@gpc/test-support';
import { CONSULTATION_SYSTEM } from '../src/fhir/identifiers';
import { createWriteBackQueue } from '../src/queue';
import { spawnRecordWorker } from './support/processes';

/**
 * The record worker (`record/src/server.ts`, its own process) on a PostgreSQL cluster of the
 * test's own, crashed (SIGKILL of the postmaster and every backend) mid-batch. It stays down 3 s in
 * `npm test`; the full length: `GPC_POSTGRES_OUTAGE_MS=30000 node --import tsx --test record/test/postgres-crash.test.ts`.
 */
const outageMs = Number(process.env.GPC_POSTGRES_OUTAGE_MS ?? 3000);
const batch = 150;

describe('the record worker through a PostgreSQL crash', () => {
  it('files each summary exactly once on the GP system when PostgreSQL crashes mid-batch and comes back, the worker process running throughout and not ready, naming the database, while it is down', async (t) => {
    const stack = cleanupStack(t);
    const postgres = await startPostgres();
    stack.after(() => postgres.remove());
    const db = await startTestDatabase(stack, { serverUrl: postgres.url });
    // the test's own pool sees the crash too: its dropped connections are expected
    db.pool.on('error', () => undefined);
    const practice = await seedPractice(db.pool, 'R90001');
    const fhir = await startLocalFhir();
    stack.after(() => fhir.server.close());
    const proxy = await startFaultProxy(fhir.base);
    stack.after(() => proxy.close());
    // slow enough that the batch is mid-way when PostgreSQL goes
    proxy.setRule(() => ({ kind: 'delay', ms: 40 }));
    await db.pool.query('UPDATE practice SET fhir_base_url = $2 WHERE id = $1', [practice.id, proxy.url]);
    const { rows } = await db.pool.query<{ id: string }>(
      // patients whose identity is confirmed: only they are filed
      `INSERT INTO consultation (practice_id, reference, kind, patient_given_name, patient_family_name, patient_birth_date,
         patient_nhs_number, identity_status, identity_confirmed_at, identity_confirmed_nhs_number)
       SELECT $1, 'GPC-PGC' || lpad(n::text, 5, '0'), 'medical', 'Pat', 'Example', '1980-02-03', '9434765919',
              'verified', now(), '9434765919'
         FROM generate_series(1, $2) AS n RETURNING id`,
      [practice.id, batch],
    );
    const ids = rows.map((row) => row.id);

    // closed by a clinician through triage's own route, which queues each write-back
    const prefix = `gpc-test-${randomUUID()}`;
    const producer = createWriteBackQueue(testRedisUrl, { prefix });
    stack.after(async () => {
      await producer.obliterate({ force: true }).catch(() => undefined);
      await producer.close();
    });
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

    const port = await freePort();
    const worker = spawnRecordWorker({
      RECORD_DATABASE_URL: db.url,
      RECORD_REDIS_URL: testRedisUrl,
      RECORD_QUEUE_PREFIX: prefix,
      RECORD_PORT: String(port),
      RECORD_LOG_LEVEL: 'warn',
      RECORD_CONCURRENCY: '10',
      RECORD_MAX_ATTEMPTS: '200',
      RECORD_RETRY_BASE_DELAY_MS: '200',
      RECORD_RETRY_MAX_DELAY_MS: '1000',
      RECORD_FHIR_TIMEOUT_MS: '3000',
      RECORD_PRACTICE_RATE_MAX: '10000',
      RECORD_LOCK_DURATION_MS: '2000',
      RECORD_STALLED_INTERVAL_MS: '1000',
      RECORD_SWEEP_INTERVAL_MS: '1000',
      RECORD_SWEEP_AFTER_MS: '5000',
    });
    stack.after(() => worker.kill());
    const assertAlive = () =>
      assert.equal(worker.child.exitCode, null, `the worker exited: ${worker.output()}`);
    const readiness = async () => {
      const response = await fetch(`http://127.0.0.1:${port}/readyz`);
      return { status: response.status, down: ((await response.json()) as { down?: string[] }).down };
    };
    const filedCount = async () => {
      const { rows: counted } = await db.pool.query<{ n: number }>(
        `SELECT count(*)::int AS n FROM write_back WHERE practice_id = $1 AND status = 'filed'`,
        [practice.id],
      );
      return counted[0]!.n;
    };

    await waitFor('a first 30 filed', async () => (await filedCount()) >= 30, {
      timeoutMs: 60_000,
      intervalMs: 100,
    });
    assert.equal((await readiness()).status, 200, 'ready while both answer');
    await postgres.crash();
    const downAt = Date.now();
    const whileDown: { status: number; down: string[] | undefined }[] = [];
    while (Date.now() - downAt < outageMs) {
      assertAlive();
      whileDown.push(await readiness());
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    assert.ok(whileDown.length > 0);
    assert.deepEqual(
      whileDown.filter((probe) => probe.status !== 503 || JSON.stringify(probe.down) !== '["database"]'),
      [],
      'not ready, naming the database, all the while it is down',
    );
    await postgres.up();
    await waitFor('ready once PostgreSQL is back', async () => (await readiness()).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    const atReturn = await filedCount();
    t.diagnostic(`${atReturn} of ${batch} filed when PostgreSQL was back after ${Date.now() - downAt} ms`);
    assert.ok(atReturn < batch, `PostgreSQL went down mid-batch (${atReturn} of ${batch} filed)`);
    await waitFor('every write-back filed', async () => (await filedCount()) === batch, {
      timeoutMs: 120_000,
      intervalMs: 200,
    });
    assertAlive();

    // the GP record: each consultation's Composition and Encounter once, and nothing else
    const compositions = await allCompositions(fhir.base);
    const perConsultation = new Map<string, number>();
    for (const composition of compositions) {
      const own =
        composition.identifier?.system === CONSULTATION_SYSTEM ? composition.identifier.value : undefined;
      if (own) perConsultation.set(own, (perConsultation.get(own) ?? 0) + 1);
    }
    assert.equal(
      compositions.length,
      batch,
      `${compositions.length} Compositions for ${batch} consultations`,
    );
    assert.deepEqual(
      ids.filter((id) => perConsultation.get(id) !== 1),
      [],
      'every consultation has exactly one Composition',
    );
    const encounters = (await (await fetch(`${fhir.base}/Encounter?_summary=count`)).json()) as {
      total: number;
    };
    assert.equal(encounters.total, batch, 'and one Encounter');
    const states = await db.pool.query<{ status: string; n: number }>(
      `SELECT status, count(*)::int AS n FROM write_back WHERE practice_id = $1 GROUP BY status`,
      [practice.id],
    );
    assert.deepEqual(states.rows, [{ status: 'filed', n: batch }]);
    assert.doesNotMatch(worker.output(), /missing 'error' handler|unhandled/i);
  });
});
