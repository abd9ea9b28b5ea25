import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { writeBackJobId } from '@gpc/contracts';
import { createWriteBackQueue } from '@gpc/record/queue';
import {
  cleanupStack,
  freePort,
  freeTextSubmission,
  seedConsultation,
  processStaffToken,
  seedPractice,
  spawnTriageProcess,
  startPostgres,
  startMailRelay,
  startRedis,
  startTestDatabase,
  sendPracticeMailThrough,
  waitFor,
  waitForTriageProcess,
  type ChildService,
  type CleanupStack,
  type MailRelay,
  type PostgresServer,
  type RedisServer,
  type SeededPractice,
  type TestDatabase,
} from '@gpc/test-support';

/**
 * Triage as production runs it (`triage/src/server.ts`, its own process) on a PostgreSQL cluster
 * and a Redis of the test's own. The cluster crashes (SIGKILL of the postmaster and every backend,
 * as when its machine dies) under a stream of submissions and stays down a few seconds; in
 * `npm test` 3 s, the full length: `GPC_POSTGRES_OUTAGE_MS=30000 node --import tsx --test triage/test/postgres-crash.test.ts`.
 */
const outageMs = Number(process.env.GPC_POSTGRES_OUTAGE_MS ?? 3000);
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Triage with its sweeps and queue locks short, behind a load balancer that names each patient's address. */
function spawnTriage(env: Record<string, string>): ChildService {
  return spawnTriageProcess({
    // patients arrive through the load balancer, each from an address of their own
    TRIAGE_TRUSTED_PROXIES: '127.0.0.1',
    // owed work whose job was lost is found again within a second or two
    TRIAGE_SWEEP_INTERVAL_MS: '500',
    TRIAGE_SWEEP_AFTER_MS: '1000',
    // a send in flight when triage is killed is taken up by the next process within seconds
    TRIAGE_QUEUE_LOCK_DURATION_MS: '2000',
    TRIAGE_QUEUE_STALLED_INTERVAL_MS: '1000',
    ...env,
  });
}

interface World {
  postgres: PostgresServer;
  db: TestDatabase;
  redis: RedisServer;
  practice: SeededPractice;
  formId: string;
  relay: MailRelay;
  env: Record<string, string>;
  url: string;
}

/** PostgreSQL and Redis of the test's own, a practice, and where triage is to listen. */
async function startWorld(stack: CleanupStack): Promise<World> {
  const postgres = await startPostgres();
  stack.after(() => postgres.remove());
  // torn down before the cluster it lives on (the stack is last-in first-out)
  const db = await startTestDatabase(stack, { serverUrl: postgres.url });
  // the test's own pool sees the crash too: its dropped connections are expected
  db.pool.on('error', () => undefined);
  const practice = await seedPractice(db.pool, 'A81001');
  const { rows } = await db.pool.query<{ id: string }>(
    `SELECT id FROM questionnaire WHERE practice_id = $1 AND slug = 'fit-note'`,
    [practice.id],
  );
  const redis = await startRedis();
  stack.after(() => redis.remove());
  // links to patients go by the practice's own mail relay
  const relay = await startMailRelay();
  stack.after(() => relay.close());
  await sendPracticeMailThrough(db.pool, practice.id, relay);
  const port = await freePort();
  return {
    postgres,
    db,
    redis,
    practice,
    formId: rows[0]!.id,
    relay,
    env: { TRIAGE_PORT: String(port), TRIAGE_DATABASE_URL: db.url, TRIAGE_REDIS_URL: redis.url },
    url: `http://127.0.0.1:${port}`,
  };
}

async function startTriageProcess(stack: CleanupStack, world: World): Promise<ChildService> {
  const triage = spawnTriage(world.env);
  stack.after(() => triage.stop());
  await waitForTriageProcess(triage, world.url);
  return triage;
}

/** `/readyz`'s answer, or status 0 when nothing answered (triage not running). */
async function readiness(url: string): Promise<{ status: number; body: unknown }> {
  const response = await fetch(`${url}/readyz`).catch(() => undefined);
  if (!response) return { status: 0, body: undefined };
  return { status: response.status, body: await response.json() };
}

interface Answered {
  status: number;
  body: { reference?: string; code?: string; message?: string };
  phase: string;
}

let patientAddress = 0;

/** One patient's request through the public form, from an address of their own. */
async function submit(world: World, phase: string): Promise<Answered> {
  patientAddress++;
  const forwardedFor = `10.${(patientAddress >> 16) & 255}.${(patientAddress >> 8) & 255}.${patientAddress & 255}`;
  const response = await fetch(`${world.url}/practices/${world.practice.odsCode}/submissions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-forwarded-for': forwardedFor },
    body: JSON.stringify(freeTextSubmission(world.formId, `request ${patientAddress}`)),
  }).catch(() => undefined);
  // triage not running (killed): no answer at all, so nothing acknowledged
  if (!response) return { status: 0, body: {}, phase };
  return { status: response.status, body: (await response.json()) as Answered['body'], phase };
}

const closeBody = JSON.stringify({
  outcomeCode: '182836005',
  outcomeDisplay: 'Review of medication',
  summary: 'Medication reviewed; no change.',
});

/** A staff request's answer, or status 0 when nothing answered (triage not running). */
async function staffPost(
  world: World,
  token: string,
  path: string,
  body: string,
): Promise<{ status: number; body: { code?: string; message?: string } }> {
  const response = await fetch(`${world.url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body,
  }).catch(() => undefined);
  if (!response) return { status: 0, body: {} };
  return { status: response.status, body: (await response.json()) as { code?: string } };
}

async function close(world: World, token: string, id: string): Promise<number> {
  return (await staffPost(world, token, `/consultations/${id}/close`, closeBody)).status;
}

/**
 * Every acknowledged submission stored exactly once and whole: the request, its answers and its
 * audit event, committed together; and no request from the form half-written, acknowledged or not.
 */
async function assertAcknowledgedStoredOnce(db: TestDatabase, answered: Answered[]): Promise<void> {
  const references = answered.filter((a) => a.status === 201).map((a) => a.body.reference!);
  assert.equal(new Set(references).size, references.length, 'no reference acknowledged twice');
  const { rows } = await db.pool.query<{
    reference: string;
    copies: string;
    answers: boolean;
    audited: boolean;
  }>(
    `SELECT c.reference, count(*) OVER (PARTITION BY c.reference) AS copies,
            c.questionnaire_response IS NOT NULL AS answers,
            EXISTS (SELECT 1 FROM audit_event e WHERE e.entity = 'consultation' AND e.entity_id = c.id::text
                      AND e.action = 'submit') AS audited
       FROM consultation c WHERE c.reference = ANY($1)`,
    [references],
  );
  const found = new Set(rows.map((row) => row.reference));
  assert.deepEqual(
    references.filter((reference) => !found.has(reference)),
    [],
    'no acknowledged submission missing',
  );
  assert.deepEqual(
    rows.filter((row) => row.copies !== '1'),
    [],
    'none stored twice',
  );
  assert.deepEqual(
    rows.filter((row) => !row.answers || !row.audited),
    [],
    'none half-written (each has its answers and its audit event)',
  );
  // nothing from the form is half-written either, acknowledged or not
  const { rows: partial } = await db.pool.query<{ id: string }>(
    `SELECT c.id FROM consultation c WHERE c.idempotency_key IS NOT NULL AND (c.questionnaire_response IS NULL
        OR NOT EXISTS (SELECT 1 FROM audit_event e WHERE e.entity = 'consultation' AND e.entity_id = c.id::text))`,
  );
  assert.deepEqual(partial, [], 'no request without its answers or audit event');
}

/** How many times each value occurs. */
function countBy(values: number[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[value] = (counts[value] ?? 0) + 1;
  return counts;
}

/** No closed request without its frozen summary version and its write-back (nothing half-written). */
async function assertClosesWhole(db: TestDatabase, acknowledged: string[]): Promise<void> {
  const { rows } = await db.pool.query<{ id: string; owed: string; versions: string }>(
    `SELECT c.id, (SELECT count(*) FROM write_back w WHERE w.consultation_id = c.id) AS owed,
            (SELECT count(*) FROM summary_version v WHERE v.consultation_id = c.id) AS versions
       FROM consultation c WHERE c.status = 'closed' OR c.id = ANY($1)`,
    [acknowledged],
  );
  const byId = new Map(rows.map((row) => [row.id, row]));
  assert.deepEqual(
    acknowledged.filter((id) => byId.get(id)?.owed !== '1'),
    [],
    'every acknowledged close owes exactly one write-back',
  );
  assert.deepEqual(
    rows.filter((row) => row.owed !== '1' || row.versions !== '1'),
    [],
    'no closed request without its one summary version and one write-back',
  );
}

/**
 * One world for both faults (a cluster, a Redis and a practice take a while to make on a busy
 * machine): the PostgreSQL crash first, then triage's own death on the recovered cluster.
 */
describe('triage through a PostgreSQL crash and its own kill -9, as its own process', () => {
  const stack = cleanupStack({ after });
  let world: World;
  let triage: ChildService;
  let token: string;
  before(async () => {
    world = await startWorld(stack);
    triage = await startTriageProcess(stack, world);
    token = processStaffToken(world.practice);
  });

  it('never exits through a PostgreSQL crash, answers 503 with a clear coded error while it is down, says so on /readyz, and loses, duplicates or half-writes no acknowledged submission, close or owed write-back', async (t) => {
    const { db, postgres, practice, url } = world;

    // closes before the crash: their write-backs are owed in PostgreSQL and queued on Redis
    const closedBefore = await Promise.all(
      Array.from({ length: 6 }, () => seedConsultation(db.pool, practice.id)),
    );
    for (const id of closedBefore) assert.equal(await close(world, token, id), 200);
    const toClose = await Promise.all(
      Array.from({ length: 60 }, () => seedConsultation(db.pool, practice.id)),
    );

    let phase: 'before' | 'outage' | 'recovering' | 'after' = 'before';
    let running = true;
    const answered: Answered[] = [];
    const closes: { id: string; status: number; body: { code?: string; message?: string }; phase: string }[] =
      [];
    const ready: { status: number; body: unknown; phase: string }[] = [];
    const stream = async () => {
      while (running) {
        answered.push(await submit(world, phase));
        // a refusal is not a reason to hammer: as a patient pressing again would
        if (answered.at(-1)!.status !== 201) await pause(100);
      }
    };
    const streams = Array.from({ length: 3 }, stream);
    const closing = (async () => {
      for (const id of toClose) {
        if (!running) break;
        const at = phase;
        closes.push({
          id,
          ...(await staffPost(world, token, `/consultations/${id}/close`, closeBody)),
          phase: at,
        });
        await pause(250);
      }
    })();
    const probing = (async () => {
      while (running) {
        const at = phase;
        ready.push({ ...(await readiness(url)), phase: at });
        await pause(200);
      }
    })();

    await waitFor('submissions to flow', () => answered.filter((a) => a.status === 201).length >= 10);
    phase = 'outage';
    await postgres.crash();
    await pause(outageMs);
    phase = 'recovering';
    await postgres.up();
    await waitFor('triage ready again', async () => (await readiness(url)).status === 200, {
      timeoutMs: 30_000,
      intervalMs: 200,
    });
    phase = 'after';
    const acknowledgedBefore = answered.filter((a) => a.status === 201).length;
    await waitFor(
      'submissions to flow again',
      () => answered.filter((a) => a.status === 201).length >= acknowledgedBefore + 10,
    );
    running = false;
    await Promise.all([...streams, closing, probing]);

    const tally = (which: string) =>
      `${which}: ${answered.filter((a) => a.phase === which && a.status === 201).length} taken, ` +
      `${answered.filter((a) => a.phase === which && a.status !== 201).length} refused, ` +
      `${closes.filter((c) => c.phase === which && c.status === 200).length} closed, ` +
      `${closes.filter((c) => c.phase === which && c.status !== 200).length} close refused`;
    t.diagnostic(['before', 'outage', 'recovering', 'after'].map(tally).join('; '));
    assert.equal(triage.child.exitCode, null, `triage never exited: ${triage.output()}`);
    // during the outage: 503, with a code and words the form or the dashboard can show
    assert.ok(
      answered.some((a) => a.phase === 'outage' && a.status === 503),
      'submissions were refused during the outage',
    );
    assert.deepEqual(
      answered.filter(
        (a) =>
          a.status !== 201 &&
          (a.status !== 503 ||
            a.body.code !== 'unavailable' ||
            !/could not send your request just now\. Please try again/.test(a.body.message ?? '')),
      ),
      [],
      'every refused submission a 503 "unavailable" telling the patient to try again',
    );
    assert.ok(
      closes.some((c) => c.phase === 'outage' && c.status === 503),
      'closes were refused during the outage',
    );
    assert.deepEqual(
      closes.filter(
        (c) =>
          c.status !== 200 &&
          (c.status !== 503 ||
            c.body.code !== 'unavailable' ||
            !/cannot reach its database just now\. Please try again/.test(c.body.message ?? '')),
      ),
      [],
      'every refused close a 503 "unavailable" saying to try again (not a 500)',
    );
    assert.ok(
      answered.some((a) => a.phase === 'after' && a.status === 201),
      'and taken again once PostgreSQL is back',
    );
    // /readyz told the truth
    assert.ok(
      ready.some(
        (probe) =>
          probe.phase === 'outage' &&
          probe.status === 503 &&
          JSON.stringify(probe.body) ===
            JSON.stringify({
              code: 'unavailable',
              message: 'not ready: PostgreSQL is not answering',
              down: ['database'],
            }),
      ),
      `not ready, naming the database, during the outage: ${JSON.stringify(ready.filter((p) => p.phase === 'outage'))}`,
    );
    assert.ok(ready.filter((probe) => probe.phase === 'before').every((probe) => probe.status === 200));
    assert.equal((await readiness(url)).status, 200, 'ready after');

    await assertAcknowledgedStoredOnce(db, answered);
    const acknowledgedCloses = [...closedBefore, ...closes.filter((c) => c.status === 200).map((c) => c.id)];
    await assertClosesWhole(db, acknowledgedCloses);

    // every acknowledged close's write-back queued exactly once (Redis stayed up), those made
    // before the crash included
    const queue = createWriteBackQueue(world.redis.url);
    stack.after(() => queue.close());
    const jobs = await queue.getJobs(['waiting', 'delayed', 'active', 'paused']);
    const queued = jobs.map((job) => String(job.id));
    assert.equal(new Set(queued).size, queued.length, 'no write-back queued twice');
    const expected = acknowledgedCloses.map((id) =>
      writeBackJobId({ consultationId: id, practiceId: practice.id }),
    );
    assert.deepEqual(
      expected.filter((id) => !queued.includes(id)),
      [],
      'every write-back owed before or through the crash still queued',
    );
    assert.doesNotMatch(triage.output(), /unhandled error|Unhandled|uncaught/i);
  });

  it('after kill -9 under a stream of submissions, closes and messages, the restarted triage serves, no acknowledged submission or close is missing or half-written, and every link owed to a patient when it died is sent by the new process', async (t) => {
    const { db, practice } = world;
    const toClose = await Promise.all(
      Array.from({ length: 40 }, () => seedConsultation(db.pool, practice.id)),
    );
    let phase: 'before' | 'dead' | 'after' = 'before';
    let running = true;
    const answered: Answered[] = [];
    const closes: { id: string; status: number }[] = [];
    const messages: { consultationId: string; status: number }[] = [];
    const stream = async () => {
      while (running) {
        answered.push(await submit(world, phase));
        if (answered.at(-1)!.status !== 201) await pause(100);
      }
    };
    const streams = Array.from({ length: 2 }, stream);
    // a clinician whose close got no answer presses again (a 409 then: it was closed after all)
    const closing = (async () => {
      for (const id of toClose) {
        let status = 0;
        while (running && status === 0) {
          status = await close(world, token, id);
          closes.push({ id, status });
          await pause(status === 0 ? 200 : 100);
        }
        if (!running) break;
      }
    })();
    // each message owes its patient a link by email: a notification row, sent from a queue
    const messaging = (async () => {
      let sent = 0;
      while (running) {
        const request = answered.filter((a) => a.status === 201)[sent];
        if (!request) {
          await pause(100);
          continue;
        }
        const { rows } = await db.pool.query<{ id: string }>(
          'SELECT id FROM consultation WHERE reference = $1',
          [request.body.reference],
        );
        const consultationId = rows[0]!.id;
        const body = JSON.stringify({ body: 'Please book a blood test.' });
        messages.push({
          consultationId,
          ...(await staffPost(world, token, `/consultations/${consultationId}/messages`, body)),
        });
        sent++;
      }
    })();

    await waitFor('the stream to flow', () => messages.filter((m) => m.status === 201).length >= 5);
    // the relay refuses for a while (a temporary 451: retried), so links are owed when triage dies
    world.relay.refuseWith(451);
    const messagedBefore = messages.filter((m) => m.status === 201).length;
    await waitFor(
      'two more messages while the relay refuses',
      () => messages.filter((m) => m.status === 201).length >= messagedBefore + 2,
    );
    phase = 'dead';
    await triage.kill();
    const { rows: owedAtKill } = await db.pool.query<{ id: string }>(
      `SELECT id FROM notification WHERE status = 'queued'`,
    );
    assert.ok(owedAtKill.length >= 2, `links owed when triage died (${owedAtKill.length})`);
    const mailedAtKill = world.relay.received.length;
    world.relay.refuseWith(undefined);
    await pause(500);
    triage = await startTriageProcess(stack, world);
    phase = 'after';
    const acknowledgedBefore = answered.filter((a) => a.status === 201).length;
    await waitFor(
      'the new process to take submissions',
      () => answered.filter((a) => a.status === 201).length >= acknowledgedBefore + 5,
    );
    running = false;
    await Promise.all([...streams, closing, messaging]);

    t.diagnostic(
      `${answered.filter((a) => a.status === 201).length} submissions taken, ${closes.filter((c) => c.status === 200).length} closes, ` +
        `${messages.filter((m) => m.status === 201).length} messages; ${owedAtKill.length} links owed at the kill; ` +
        `close answers by status ${JSON.stringify(countBy(closes.map((c) => c.status)))}`,
    );
    assert.ok(
      answered.some((a) => a.phase === 'after' && a.status === 201),
      'the new process serves',
    );
    assert.deepEqual(
      answered.filter((a) => ![0, 201].includes(a.status)),
      [],
      'each submission either acknowledged or not answered at all',
    );
    await assertAcknowledgedStoredOnce(db, answered);
    assert.deepEqual(
      closes.filter((c) => ![0, 200, 409].includes(c.status)),
      [],
      'each close answered 200, or 409 when pressed again after no answer, or not at all',
    );
    await assertClosesWhole(
      db,
      closes.filter((c) => c.status === 200).map((c) => c.id),
    );

    // every acknowledged message has its link owed, and the new process sends every one owed
    const acknowledgedMessages = messages.filter((m) => m.status === 201).map((m) => m.consultationId);
    const { rows: notifications } = await db.pool.query<{ consultation_id: string }>(
      'SELECT consultation_id FROM notification WHERE consultation_id = ANY($1)',
      [acknowledgedMessages],
    );
    assert.deepEqual(
      acknowledgedMessages.filter((id) => !notifications.some((n) => n.consultation_id === id)),
      [],
      'every acknowledged message owes its link',
    );
    let statuses: unknown[] = [];
    await waitFor(
      () => `every owed link sent: ${JSON.stringify(statuses)}`,
      async () => {
        ({ rows: statuses } = await db.pool.query(
          'SELECT status, count(*) FROM notification GROUP BY status',
        ));
        return (await db.pool.query(`SELECT 1 FROM notification WHERE status = 'queued'`)).rowCount === 0;
      },
      // a refused link is retried after 5 to 10 s (triage's backoff), by the new process
      { timeoutMs: 60_000, intervalMs: 250 },
    );
    const { rows: sentAfter } = await db.pool.query<{ id: string }>(
      `SELECT id FROM notification WHERE id = ANY($1) AND status IN ('sent', 'delivered')`,
      [owedAtKill.map((row) => row.id)],
    );
    assert.equal(
      sentAfter.length,
      owedAtKill.length,
      'the new process sent every link owed when the old one died',
    );
    assert.ok(
      world.relay.received.length - mailedAtKill >= owedAtKill.length,
      'each reached the relay after the kill',
    );
    const { rows: unsent } = await db.pool.query<{ status: string }>(
      `SELECT status FROM notification WHERE status NOT IN ('sent', 'delivered')`,
    );
    assert.deepEqual(unsent, [], 'none failed');
    const { rows: total } = await db.pool.query<{ n: string }>('SELECT count(*) AS n FROM notification');
    assert.ok(
      world.relay.received.length >= Number(total[0]!.n),
      `the relay has a mail for each (${world.relay.received.length} for ${total[0]!.n})`,
    );
    assert.equal(triage.child.exitCode, null);
  });

  it('starts while PostgreSQL is down, waiting for it without exiting, and serves once it answers', async () => {
    const { postgres } = world;
    await postgres.crash();
    const port = await freePort();
    const second: World = {
      ...world,
      env: { ...world.env, TRIAGE_PORT: String(port) },
      url: `http://127.0.0.1:${port}`,
    };
    const starting = spawnTriage(second.env);
    stack.after(() => starting.stop());
    try {
      await waitFor(
        () => `triage to say it waits for PostgreSQL: ${starting.output()}`,
        () => /PostgreSQL is not answering: waiting for it before serving/.test(starting.output()),
        { timeoutMs: 30_000, intervalMs: 200 },
      );
      await pause(outageMs);
      assert.equal(starting.child.exitCode, null, `it waits, not exits: ${starting.output()}`);
      assert.equal(triage.child.exitCode, null, 'nor does the running one');
    } finally {
      await postgres.up();
    }
    await waitFor(
      () => `triage to serve once PostgreSQL answers: ${starting.output()}`,
      async () => (await fetch(`${second.url}/health`).catch(() => undefined))?.status === 200,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    assert.match(starting.output(), /PostgreSQL is answering: starting/);
    const taken = await submit(second, 'after');
    assert.equal(taken.status, 201, JSON.stringify(taken.body));
    await assertAcknowledgedStoredOnce(world.db, [taken]);
  });
});
