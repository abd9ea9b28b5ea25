import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import pg from 'pg';
import { pino } from 'pino';
import { createWriteBackAnnouncer } from '@gpc/record';
import { defaultTokenIssuer } from '@gpc/contracts';
import { buildTriageApp, generateSigningKey, loadTriageConfig, signStaffToken, TokenKeys } from '@gpc/triage';
import {
  createTestDatabase,
  freePort,
  noWriteBacks,
  openDashboard,
  startTriage,
  testRedisUrl,
  waitFor,
  type TestDatabase,
} from '@gpc/test-support';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const signingKey = generateSigningKey();
const tokenKeys = new TokenKeys([signingKey], defaultTokenIssuer);
const appDeps = (pool: pg.Pool) => ({ pool, tokenKeys, writeBack: noWriteBacks });

describe('triage app', () => {
  let db: TestDatabase;
  before(async () => (db = await createTestDatabase()));
  after(() => db.drop());

  it('answers /health when the database answers, 503 when it does not', async () => {
    const app = await buildTriageApp(appDeps(db.pool));
    const ok = await app.inject({ method: 'GET', url: '/health' });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { status: 'ok', database: 'ok' });
    await app.close();

    const deadPool = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 500,
    });
    const down = await buildTriageApp(appDeps(deadPool));
    const unavailable = await down.inject({ method: 'GET', url: '/health' });
    assert.equal(unavailable.statusCode, 503);
    assert.deepEqual(unavailable.json(), { code: 'unavailable', message: 'The database is not answering' });
    await down.close();
    await deadPool.end();
  });

  it('answers /healthz (liveness) while the database does not answer, so an outage never has triage restarted', async () => {
    const deadPool = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 500,
    });
    const app = await buildTriageApp(appDeps(deadPool));
    const live = await app.inject({ method: 'GET', url: '/healthz' });
    assert.equal(live.statusCode, 200);
    assert.deepEqual(live.json(), { status: 'live' });
    assert.equal((await app.inject({ method: 'GET', url: '/readyz' })).statusCode, 503);
    await app.close();
    await deadPool.end();
  });

  it('answers with headers that keep its answers out of caches, sniffing, referrers and other sites, and no TRACE', async () => {
    const app = await buildTriageApp(appDeps(db.pool));
    for (const url of ['/health', '/consultations']) {
      const answer = await app.inject({
        method: 'GET',
        url,
        headers: { origin: 'https://attacker.example' },
      });
      assert.match(String(answer.headers['content-type']), /^application\/json; charset=utf-8/, url);
      assert.equal(answer.headers['cache-control'], 'no-store', url);
      assert.equal(answer.headers['x-content-type-options'], 'nosniff', url);
      assert.equal(answer.headers['referrer-policy'], 'no-referrer', url);
      assert.match(
        String(answer.headers['strict-transport-security']),
        /max-age=31536000; includeSubDomains/,
        url,
      );
      assert.match(String(answer.headers['content-security-policy']), /frame-ancestors 'self'/, url);
      // no CORS: another site's page cannot read an answer
      assert.equal(answer.headers['access-control-allow-origin'], undefined, url);
    }
    const trace = await app.inject({ method: 'TRACE', url: '/health' });
    assert.equal(trace.statusCode, 404);
    await app.close();
  });

  it('answers unknown routes with a coded 404 and serves its OpenAPI document', async () => {
    const app = await buildTriageApp(appDeps(db.pool));
    const missing = await app.inject({ method: 'GET', url: '/nothing?nhs=9434765919' });
    assert.equal(missing.statusCode, 404);
    assert.deepEqual(missing.json(), { code: 'notFound', message: 'No route GET /nothing' });
    const openapi = await app.inject({ method: 'GET', url: '/openapi.json' });
    assert.equal(openapi.statusCode, 200);
    const document = openapi.json<{ openapi: string; paths: Record<string, unknown> }>();
    assert.match(document.openapi, /^3\./);
    assert.ok('/health' in document.paths);
    await app.close();
  });

  it('answers its framework’s own refusals in its own codes: too many sign-ins, a body too large', async (t) => {
    const { app } = await startTriage(t);
    // a different account each time: the address's limit, not one account's back-off
    const signIn = (attempt: number) =>
      app.inject({
        method: 'POST',
        url: '/auth/login',
        payload: { odsCode: 'A81001', email: `nobody${attempt}@example.org`, password: 'not the password' },
      });
    for (let attempt = 0; attempt < 10; attempt++) assert.equal((await signIn(attempt)).statusCode, 401);
    const limited = await signIn(10);
    assert.equal(limited.statusCode, 429);
    assert.equal(limited.json<{ code: string }>().code, 'tooManyRequests');
    const huge = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ padding: 'x'.repeat(2 * 1024 * 1024) }),
    });
    assert.equal(huge.statusCode, 413);
    assert.equal(huge.json<{ code: string }>().code, 'badRequest', 'a status we have no code of our own for');
  });

  it('answers its probes from an address that has used up its general rate limit, in a bucket of their own', async (t) => {
    const { app } = await startTriage(t);
    const jwks = () => app.inject({ method: 'GET', url: '/.well-known/jwks.json' });
    for (let n = 0; n < 300; n++) assert.equal((await jwks()).statusCode, 200);
    assert.equal((await jwks()).statusCode, 429, "the address's general limit is used up");
    for (const probe of ['/healthz', '/health', '/readyz'])
      assert.equal((await app.inject({ method: 'GET', url: probe })).statusCode, 200, probe);
    // bounded all the same: each asks the database
    let last = 200;
    for (let n = 0; n < 600 && last === 200; n++)
      last = (await app.inject({ method: 'GET', url: '/healthz' })).statusCode;
    assert.equal(last, 429, 'probes have a limit of their own');
  });

  it('fails at boot naming a missing required key', () => {
    assert.throws(
      () => loadTriageConfig({ TRIAGE_DATABASE_URL: 'postgres://x' }),
      /TRIAGE_SIGNING_KEYS: required/,
    );
  });

  it('runs as a process: migrates, serves, stops on SIGTERM; a busy port is a clear error', async (t) => {
    const port = await freePort();
    const env = {
      ...process.env,
      TRIAGE_PORT: String(port),
      TRIAGE_DATABASE_URL: db.url,
      TRIAGE_REDIS_URL: testRedisUrl,
      TRIAGE_S3_BUCKET: 'unused-here',
      TRIAGE_S3_ACCESS_KEY_ID: 'S3RVER',
      TRIAGE_S3_SECRET_ACCESS_KEY: 'S3RVER',
      TRIAGE_SIGNING_KEYS: JSON.stringify({ keys: [signingKey] }),
    };
    const server = spawn(process.execPath, ['--import', 'tsx', 'triage/src/server.ts'], {
      cwd: repoRoot,
      env,
      stdio: 'pipe',
    });
    const exited = new Promise<number | null>((resolve) => server.once('exit', resolve));
    try {
      const healthy = await waitFor(
        'the server to answer /health',
        () =>
          fetch(`http://127.0.0.1:${port}/health`).then(
            (r) => r.ok,
            () => false,
          ),
        { timeoutMs: 20_000, intervalMs: 200 },
      );
      assert.ok(healthy, 'server answers /health');
      const migrated = await db.pool.query('SELECT count(*)::int AS n FROM schema_migration');
      assert.ok((migrated.rows[0] as { n: number }).n >= 4, 'every migration applied');

      // its dashboards hear what another process announces through Redis (the record worker's write-backs)
      const practiceId = randomUUID();
      const token = signStaffToken(tokenKeys, {
        typ: 'staff',
        sub: randomUUID(),
        practiceId,
        role: 'clinician',
        name: 'Dr Test',
      });
      const heard = await openDashboard(t, `http://127.0.0.1:${port}`, token);
      const redis = new Redis(testRedisUrl);
      t.after(() => redis.disconnect());
      const announce = createWriteBackAnnouncer(redis, pino({ level: 'silent' }));
      const consultationId = randomUUID();
      await waitFor(
        "a dashboard to hear the record worker's announcement",
        () => {
          announce({ consultationId, practiceId });
          return heard.some((change) => change.consultationId === consultationId);
        },
        { timeoutMs: 5000, intervalMs: 250 },
      );

      const second = spawn(process.execPath, ['--import', 'tsx', 'triage/src/server.ts'], {
        cwd: repoRoot,
        env,
        stdio: 'pipe',
      });
      let stderr = '';
      second.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      const secondCode = await new Promise<number | null>((resolve) => second.once('exit', resolve));
      assert.equal(secondCode, 1);
      assert.equal(stderr.trim(), `triage: port ${port} is already in use`);

      server.kill('SIGTERM');
      assert.equal(await exited, 0);
    } finally {
      server.kill('SIGKILL');
    }
  });
});
