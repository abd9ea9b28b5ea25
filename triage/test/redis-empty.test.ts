import assert from 'node:assert/strict';
import { describe, it, type TestContext } from 'node:test';
import type { Pool } from 'pg';
import { startLocalPds } from '@gpc/local-pds-server';
import { seedPatients } from '@gpc/local-pds-server/seed';
import { loadTriageConfig } from '@gpc/triage';
import {
  cleanupStack,
  compositionsFor,
  freePort,
  freeTextSubmission,
  processSigningKey,
  processStaffToken,
  seedConsultation,
  seedPractice,
  spawnServiceProcess,
  spawnTriageProcess,
  startFaultProxy,
  startLocalFhir,
  startMailRelay,
  startRedis,
  startTestDatabase,
  sendPracticeMailThrough,
  testSecretsEnv,
  waitFor,
  type ChildService,
  type FaultAction,
  type FaultProxy,
  type MailRelay,
} from '@gpc/test-support';

/**
 * Redis coming back empty (a failover without its data, a restart without its append-only file):
 * the jobs it held are gone, and so are the ones it could not take while down. What is owed is in
 * PostgreSQL, and the sweeps (triage's notification sender and trace worker, the record worker)
 * queue it again. Triage and the record worker run as production runs them, each its own process,
 * with their sweeps set short from the environment.
 */
const sweepEnv = (prefix: 'TRIAGE' | 'RECORD') => ({
  [`${prefix}_SWEEP_INTERVAL_MS`]: '500',
  [`${prefix}_SWEEP_AFTER_MS`]: '1000',
});

const blocked: FaultAction = { kind: 'status', status: 503, text: 'not now' };

/**
 * Triage and the record worker as processes on a PostgreSQL database and a Redis of the test's own,
 * with the far sides (the GP system, PDS, the mail relay) each behind a switch that holds back what
 * is sent until `release()`. `oweOneOfEach` makes a submission (owes a trace), a message to a patient
 * (owes an email) and a close (owes a filing); `allDone` waits for that work, `assertEachOnce`
 * checks each piece was done exactly once.
 */
async function startWorld(
  t: TestContext,
  sweeps: { triage: Record<string, string>; record: Record<string, string> },
) {
  const cleanup = cleanupStack(t);
  const db = await startTestDatabase(cleanup);
  const practice = await seedPractice(db.pool, 'A81001');
  await db.pool.query(`UPDATE practice SET out_of_hours = 'open'`);
  const redis = await startRedis();
  cleanup.after(() => redis.remove());

  // the far sides, each behind a switch that holds back what is sent until the test lets it through
  const fhir = await startLocalFhir();
  cleanup.after(() => fhir.server.close());
  const gpSystem = await startFaultProxy(fhir.base);
  cleanup.after(() => gpSystem.close());
  const pds = await startLocalPds();
  cleanup.after(() => pds.close());
  const pdsProxy = await startFaultProxy(pds.baseUrl);
  cleanup.after(() => pdsProxy.close());
  const relay = await startMailRelay();
  cleanup.after(() => relay.close());
  for (const proxy of [gpSystem, pdsProxy]) proxy.setRule(() => blocked);
  relay.refuseWith(451); // a temporary refusal: retried
  await db.pool.query('UPDATE practice SET fhir_base_url = $2 WHERE id = $1', [practice.id, gpSystem.url]);
  await sendPracticeMailThrough(db.pool, practice.id, relay);

  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const triage = spawnTriageProcess({
    TRIAGE_PORT: String(port),
    TRIAGE_DATABASE_URL: db.url,
    TRIAGE_REDIS_URL: redis.url,
    TRIAGE_PDS_BASE_URL: pdsProxy.url,
    TRIAGE_PDS_TOKEN_URL: pds.tokenUrl,
    TRIAGE_PDS_API_KEY: pds.apiKey,
    TRIAGE_PDS_PRIVATE_KEY: pds.key.privateKeyPem,
    TRIAGE_PDS_KID: pds.key.kid,
    ...sweeps.triage,
  });
  cleanup.after(() => triage.stop());
  const record = spawnServiceProcess('record/src/server.ts', {
    RECORD_PORT: '0',
    RECORD_DATABASE_URL: db.url,
    RECORD_REDIS_URL: redis.url,
    RECORD_S3_BUCKET: 'unused-bucket',
    RECORD_S3_ACCESS_KEY_ID: 'unused',
    RECORD_S3_SECRET_ACCESS_KEY: 'unused',
    RECORD_LOG_LEVEL: 'warn',
    RECORD_OUTBOUND_ALLOW_LOOPBACK_HTTP: 'true',
    RECORD_RETRY_BASE_DELAY_MS: '200',
    RECORD_RETRY_MAX_DELAY_MS: '1000',
    RECORD_MAX_ATTEMPTS: '200',
    ...testSecretsEnv('RECORD'),
    ...sweeps.record,
  });
  cleanup.after(() => record.stop());
  let lastReadyz = '';
  const readyz = async () => {
    const response = await fetch(`${url}/readyz`).catch(() => undefined);
    lastReadyz = response ? `${response.status} ${await response.text()}` : 'no answer';
    return response?.status;
  };
  // a fresh database is migrated first, and the machine may be busy with other tests
  await waitFor(
    () => `triage ready (last /readyz: ${lastReadyz}): ${triage.output()}`,
    async () => (await readyz()) === 200,
    { timeoutMs: 90_000, intervalMs: 200 },
  );

  const token = processStaffToken(practice);
  const headers = { authorization: `Bearer ${token}`, 'content-type': 'application/json' };
  const forms = (await (await fetch(`${url}/practices/${practice.odsCode}`)).json()) as {
    forms: { id: string; slug: string }[];
  };
  const formId = forms.forms.find((form) => form.slug === 'fit-note')!.id;
  const submitted: string[] = [];
  const messaged: { id: string; email: string }[] = [];
  const closed: string[] = [];
  /** A submission (owes a trace), a message to a patient (owes an email) and a close (owes a filing). */
  const oweOneOfEach = async (n: number) => {
    const submission = await fetch(`${url}/practices/${practice.odsCode}/submissions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(
        freeTextSubmission(formId, 'x', { patient: { nhsNumber: seedPatients.patExample.nhsNumber } }),
      ),
    });
    assert.equal(submission.status, 201, await submission.clone().text());
    const { reference } = (await submission.json()) as { reference: string };
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM consultation WHERE reference = $1', [
      reference,
    ]);
    submitted.push(rows[0]!.id);

    const toMessage = await seedConsultation(db.pool, practice.id);
    const email = `patient-${n}@example.org`;
    await db.pool.query(
      `UPDATE consultation SET contact_email = $2, preferred_contact = 'email' WHERE id = $1`,
      [toMessage, email],
    );
    const message = await fetch(`${url}/consultations/${toMessage}/messages`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ body: 'Your results are back; please read them in your thread.' }),
    });
    assert.equal(message.status, 201, await message.text());
    messaged.push({ id: toMessage, email });

    const toClose = await seedConsultation(db.pool, practice.id);
    const close = await fetch(`${url}/consultations/${toClose}/close`, {
      method: 'POST',
      headers,
      body: JSON.stringify({
        outcomeCode: '182836005',
        outcomeDisplay: 'Review of medication',
        summary: 'Medication reviewed; no change.',
      }),
    });
    assert.equal(close.status, 200, await close.text());
    closed.push(toClose);
  };

  const release = () => {
    for (const proxy of [gpSystem, pdsProxy]) proxy.setRule(() => ({ kind: 'pass' }));
    relay.refuseWith(undefined);
  };
  const { allDone, assertEachOnce } = owedWork({
    db,
    submitted,
    messaged,
    closed,
    fhir,
    gpSystem,
    pdsProxy,
    relay,
    triage,
    record,
  });
  return { db, redis, gpSystem, pdsProxy, relay, readyz, oweOneOfEach, release, allDone, assertEachOnce };
}

/**
 * Where the work `oweOneOfEach` made stands: how much of each kind is done and what is still owed
 * (`allDone` waits for it all), and whether each piece was done exactly once (`assertEachOnce`).
 */
function owedWork(world: {
  db: { pool: Pool };
  submitted: string[];
  messaged: { id: string; email: string }[];
  closed: string[];
  fhir: { base: string };
  gpSystem: FaultProxy;
  pdsProxy: FaultProxy;
  relay: MailRelay;
  triage: ChildService;
  record: ChildService;
}) {
  const { db, submitted, messaged, closed, fhir, gpSystem, pdsProxy, relay, triage, record } = world;
  const count = async (sql: string, ids: string[]) =>
    (await db.pool.query<{ n: number }>(sql, [ids])).rows[0]!.n;
  /** How much of each kind is done, and each piece still owed with where it stands. */
  const owed = async () => {
    const done = {
      traces: await count(
        `SELECT count(*)::int AS n FROM patient_trace WHERE status = 'done' AND consultation_id = ANY($1)`,
        submitted,
      ),
      emails: await count(
        `SELECT count(*)::int AS n FROM notification WHERE status = 'sent' AND consultation_id = ANY($1)`,
        messaged.map((m) => m.id),
      ),
      filings: await count(
        `SELECT count(*)::int AS n FROM write_back WHERE status = 'filed' AND consultation_id = ANY($1)`,
        closed,
      ),
    };
    const { rows: stillOwed } = await db.pool.query(
      `SELECT 'trace' AS kind, status, attempts, round(extract(epoch FROM next_attempt_at - now())) AS due_in_s,
              round(extract(epoch FROM now() - updated_at)) AS untouched_s
         FROM patient_trace WHERE status <> 'done' AND consultation_id = ANY($1)
       UNION ALL
       SELECT 'email', status, attempts, NULL, round(extract(epoch FROM now() - updated_at))
         FROM notification WHERE status <> 'sent' AND consultation_id = ANY($2)
       UNION ALL
       SELECT 'filing', status, attempts, NULL, round(extract(epoch FROM now() - updated_at))
         FROM write_back WHERE status <> 'filed' AND consultation_id = ANY($3)`,
      [submitted, messaged.map((m) => m.id), closed],
    );
    const all =
      done.traces === submitted.length && done.emails === messaged.length && done.filings === closed.length;
    return { all, done, stillOwed };
  };
  /** Waits until every trace, email and filing owed is done, saying what is not when it times out. */
  const allDone = async (timeoutMs: number) => {
    let last: Awaited<ReturnType<typeof owed>> | undefined;
    await waitFor(
      // which kind is still owed and where each stands, when it times out (a run in CI once did, after 90 s)
      () =>
        `every trace, email and filing done (traces ${last?.done.traces}/${submitted.length}, ` +
        `emails ${last?.done.emails}/${messaged.length}, filings ${last?.done.filings}/${closed.length}); ` +
        `still owed: ${JSON.stringify(last?.stillOwed)}; triage: ${triage.output().slice(-3000)}; ` +
        `record: ${record.output().slice(-3000)}`,
      async () => (last = await owed()).all,
      { timeoutMs, intervalMs: 500 },
    );
  };
  /** Each trace, email and filing was done once: PDS read, the patient emailed, a Composition filed. */
  const assertEachOnce = async () => {
    const traced = pdsProxy.requests.filter((request) => request.action === 'pass');
    assert.equal(traced.length, submitted.length, 'PDS read once for each request (a verified patient)');
    const verified = await count(
      `SELECT count(*)::int AS n FROM consultation WHERE identity_status = 'verified' AND id = ANY($1)`,
      submitted,
    );
    assert.equal(verified, submitted.length, 'each request traced and verified');
    assert.deepEqual(
      messaged.map((m) => relay.received.filter((mail) => mail.to.includes(m.email)).length),
      messaged.map(() => 1),
      'each patient emailed exactly once',
    );
    assert.equal(relay.received.length, messaged.length);
    for (const id of closed)
      assert.equal((await compositionsFor(fhir.base, id)).length, 1, `one Composition for ${id}`);
    const filings = gpSystem.requests.filter((request) => request.action === 'pass');
    assert.equal(filings.length, closed.length, 'one transaction reached the GP system per close');
    for (const service of [triage, record]) {
      assert.equal(service.child.exitCode, null, `still running: ${service.output()}`);
      assert.doesNotMatch(service.output(), /missing 'error' handler|Unhandled error event/);
    }
  };
  return { allDone, assertEachOnce };
}

describe('triage and the record worker when Redis comes back empty', () => {
  it('takes how often it sweeps and after how long from TRIAGE_SWEEP_*, 30 s and 2 minutes unless set, and refuses a negative one', () => {
    const base = {
      TRIAGE_DATABASE_URL: 'postgres://127.0.0.1:1/none',
      TRIAGE_REDIS_URL: 'redis://127.0.0.1:1',
      TRIAGE_S3_BUCKET: 'unused-here',
      TRIAGE_S3_ACCESS_KEY_ID: 'S3RVER',
      TRIAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
      TRIAGE_SIGNING_KEYS: JSON.stringify({ keys: [processSigningKey] }),
    };
    const defaults = loadTriageConfig(base);
    assert.deepEqual([defaults.sweepIntervalMs, defaults.sweepAfterMs], [30_000, 120_000]);
    const set = loadTriageConfig({ ...base, ...sweepEnv('TRIAGE') });
    assert.deepEqual([set.sweepIntervalMs, set.sweepAfterMs], [500, 1000]);
    assert.throws(
      () => loadTriageConfig({ ...base, TRIAGE_SWEEP_INTERVAL_MS: '-1' }),
      /TRIAGE_SWEEP_INTERVAL_MS/,
    );
    assert.throws(() => loadTriageConfig({ ...base, TRIAGE_SWEEP_AFTER_MS: '0' }), /TRIAGE_SWEEP_AFTER_MS/);
  });

  it('delivers every close, patient notification and trace owed while Redis was down or lost with it, each exactly once', async (t) => {
    const world = await startWorld(t, { triage: sweepEnv('TRIAGE'), record: sweepEnv('RECORD') });
    const { redis, gpSystem, pdsProxy, relay, db } = world;

    // owed while Redis answers: queued, tried, held back by the far sides, waiting in Redis for a retry
    const tracesFailingFrom = Date.now();
    for (let n = 0; n < 4; n++) await world.oweOneOfEach(n);
    await waitFor(
      'each job to have been tried once',
      () =>
        pdsProxy.requests.length >= 4 &&
        gpSystem.requests.length >= 4 &&
        relay.received.length === 0 &&
        db.pool
          .query<{ n: number }>(`SELECT count(*)::int AS n FROM notification WHERE attempts > 0`)
          .then(({ rows }) => rows[0]!.n >= 4),
      { timeoutMs: 30_000, intervalMs: 200 },
    );

    // Redis goes; what is owed meanwhile cannot be queued at all
    await redis.down();
    await waitFor('triage not ready', async () => (await world.readyz()) === 503, { timeoutMs: 10_000 });
    for (let n = 4; n < 8; n++) await world.oweOneOfEach(n);

    // and comes back with nothing: every job above is gone
    await redis.up({ empty: true });
    const tracesFailedFor = Date.now() - tracesFailingFrom;
    await waitFor('triage ready again', async () => (await world.readyz()) === 200, {
      timeoutMs: 20_000,
      intervalMs: 200,
    });
    world.release();

    // A trace held back is due again after the queue's backoff, then overdue for the sweep. The backoff
    // doubles from 15 s with each failed attempt, so the next attempt of a trace that has failed for
    // F seconds is due at most 2F + 15 s later: on a slow machine more attempts fail before Redis goes.
    await world.allDone(90_000 + 2 * tracesFailedFor);
    // several sweeps more: nothing is done twice
    await new Promise((resolve) => setTimeout(resolve, 3000));
    await world.assertEachOnce();
  });

  it('queues what was owed while Redis was down as soon as it is back, without waiting minutes for a timed sweep', async (t) => {
    // no timed sweep within the test (every hour; what is untouched for 2 minutes, as in production):
    // only Redis's return can have the work owed during the outage queued
    const hourly = (prefix: 'TRIAGE' | 'RECORD') => ({ [`${prefix}_SWEEP_INTERVAL_MS`]: '3600000' });
    const world = await startWorld(t, { triage: hourly('TRIAGE'), record: hourly('RECORD') });
    world.release();

    await world.redis.down();
    await waitFor('triage not ready', async () => (await world.readyz()) === 503, { timeoutMs: 10_000 });
    for (let n = 0; n < 3; n++) await world.oweOneOfEach(n);
    await world.redis.up();
    await waitFor('triage ready again', async () => (await world.readyz()) === 200, {
      timeoutMs: 20_000,
      intervalMs: 200,
    });

    await world.allDone(60_000);
    await world.assertEachOnce();
  });
});
