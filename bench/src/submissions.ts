/**
 * Submissions per second through the real route into PostgreSQL, against a bare fastify route doing
 * the same single insert, in the same run; then the queue listing's latency with 100,000 requests
 * in the table. autocannon in this process, on loopback. Prints figures; asserts nothing.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import autocannon from 'autocannon';
import Fastify from 'fastify';
import { defaultTokenIssuer } from '@gpc/contracts';
import { buildTriageApp, generateSigningKey, migrateDatabase, signStaffToken, TokenKeys } from '@gpc/triage';
import { createTestDatabase, freeTextSubmission, noWriteBacks, seedPractice } from '@gpc/test-support';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = 20;

async function load(options: autocannon.Options): Promise<autocannon.Result> {
  return autocannon({ duration: seconds, connections, ...options });
}

const line = (label: string, result: autocannon.Result) =>
  console.log(
    `${label.padEnd(44)} ${Math.round(result.requests.average).toString().padStart(6)} req/s  ` +
      `latency p50 ${result.latency.p50} ms  p99 ${result.latency.p99} ms  non-2xx ${result.non2xx}  errors ${result.errors}`,
  );

const db = await createTestDatabase();
try {
  await migrateDatabase(db.url);
  const practice = await seedPractice(db.pool, 'A81001');
  await db.pool.query(
    'UPDATE practice SET daily_capacity = 1000000000, opening_hours = \'{"mon":[["00:00","24:00"]]}\'',
  );
  const monday = new Date('2026-07-13T09:00:00Z');
  const triage = await buildTriageApp({
    pool: db.pool,
    tokenKeys: new TokenKeys([generateSigningKey()], defaultTokenIssuer),
    writeBack: noWriteBacks,
    now: () => monday,
    rateLimitAllowList: ['127.0.0.1'],
  });
  await triage.listen({ host: '127.0.0.1', port: 0 });
  const triageUrl = `http://127.0.0.1:${(triage.server.address() as AddressInfo).port}`;
  const formId = (
    await db.pool.query<{ id: string }>("SELECT id FROM questionnaire WHERE slug = 'something-else'")
  ).rows[0]!.id;
  const body = freeTextSubmission(formId, 'help', { patient: { nhsNumber: '9434765919' } });

  // baseline: fastify validating a body and doing one insert into the same database
  await db.pool.query('CREATE TABLE bench_insert (id uuid PRIMARY KEY, body jsonb NOT NULL)');
  const bare = Fastify();
  bare.post(
    '/insert',
    {
      schema: {
        body: {
          type: 'object',
          required: ['idempotencyKey'],
          properties: { idempotencyKey: { type: 'string', format: 'uuid' } },
        },
      },
    },
    async (request) => {
      const payload = request.body as { idempotencyKey: string };
      await db.pool.query('INSERT INTO bench_insert (id, body) VALUES ($1, $2)', [
        payload.idempotencyKey,
        JSON.stringify(payload),
      ]);
      return { ok: true };
    },
  );
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}`;

  // every request a new submission: a fresh idempotency key each time
  const post = (url: string): autocannon.Options => ({
    url,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => ({
          ...request,
          body: JSON.stringify({ ...body, idempotencyKey: randomUUID() }),
        }),
      },
    ],
  });
  console.log(`submissions: ${connections} connections, ${seconds} s each, loopback`);
  const baseline = await load(post(`${bareUrl}/insert`));
  line('bare fastify: validate + one insert', baseline);
  // the public route is rate-limited per client; the benchmark's one client spreads over fake addresses
  const real = await load({
    ...post(`${triageUrl}/practices/A81001/submissions`),
    setupClient: (client) => {
      let n = 0;
      client.setHeaders({
        'content-type': 'application/json',
        'x-forwarded-for': `10.0.0.${(n++ % 250) + 1}`,
      });
    },
  });
  line('POST /practices/:ods/submissions', real);
  console.log(
    `ratio real / bare: ${(real.requests.average / baseline.requests.average).toFixed(2)}   (goal >= 0.8)`,
  );

  // the same load spread over 20 practices, as a service hosting many sees it: one practice's
  // requests queue on its day counter (the capacity check), twenty practices' do not
  const spread: { ods: string; formId: string }[] = [];
  for (let i = 0; i < 20; i++) {
    const ods = `S${String(i).padStart(5, '0')}`;
    const seeded = await seedPractice(db.pool, ods);
    const form = await db.pool.query<{ id: string }>(
      "SELECT id FROM questionnaire WHERE practice_id = $1 AND slug = 'something-else'",
      [seeded.id],
    );
    spread.push({ ods, formId: form.rows[0]!.id });
  }
  await db.pool.query(
    'UPDATE practice SET daily_capacity = 1000000000, opening_hours = \'{"mon":[["00:00","24:00"]]}\'',
  );
  let next = 0;
  const spreadResult = await load({
    url: triageUrl,
    requests: [
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        setupRequest: (request) => {
          const target = spread[next++ % spread.length]!;
          return {
            ...request,
            path: `/practices/${target.ods}/submissions`,
            body: JSON.stringify({ ...body, formId: target.formId, idempotencyKey: randomUUID() }),
          };
        },
      },
    ],
  });
  line('the same, spread over 20 practices', spreadResult);
  console.log(
    `ratio spread / bare: ${(spreadResult.requests.average / baseline.requests.average).toFixed(2)}`,
  );

  // the queue with 100,000 requests in the table
  await db.pool.query(
    `INSERT INTO consultation (practice_id, reference, kind, patient_given_name, patient_family_name, patient_birth_date, created_at)
     SELECT $1, 'GPC-B' || lpad(n::text, 8, '0'), CASE WHEN n % 3 = 0 THEN 'admin' ELSE 'medical' END, 'Pat', 'Example', '1980-01-01',
            now() - make_interval(mins => n)
       FROM generate_series(1, 100000) AS n`,
    [practice.id],
  );
  await db.pool.query('ANALYZE consultation');
  const token = signStaffToken(triage.tokens, {
    typ: 'staff',
    sub: practice.staff.reception.id,
    practiceId: practice.id,
    role: 'reception',
    name: 'R',
  });
  const count = (await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM consultation')).rows[0]!
    .n;
  const probe = await fetch(`${triageUrl}/consultations?status=new&limit=50`, {
    headers: { authorization: `Bearer ${token}` },
  });
  if (!probe.ok) throw new Error(`queue listing answered ${probe.status}: ${await probe.text()}`);
  const listing = await load({
    url: `${triageUrl}/consultations?status=new&limit=50`,
    headers: { authorization: `Bearer ${token}` },
  });
  line(`GET /consultations (${count} in the table)`, listing);
  console.log(
    `queue listing latency p95 ~ p97.5 ${listing.latency.p97_5} ms, p99 ${listing.latency.p99} ms (autocannon reports p97.5, not p95)`,
  );
  await bare.close();
  await triage.close();
} finally {
  await db.drop();
}
