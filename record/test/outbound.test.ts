// Issue 12, findings 1 and 2: what a practice's admin can make the record worker do with the GP
// system settings (base URL, OAuth token URL): take another practice's cached token, reach the
// server's own network, follow redirects, or read a far side's error text. Each attack is made
// through the admin API and the real record worker, against real services on 127.0.0.1.
import assert from 'node:assert/strict';
import { lookup } from 'node:dns/promises';
import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { FhirAuth } from '@gpc/contracts';
import { strictOutbound, type OutboundPolicy } from '@gpc/outbound';
import {
  compositionsFor,
  seedConsultation,
  startLocalFhir,
  startRecordingServer,
  startTokenEndpoint,
  startTriage,
  storedSetting,
  testRedisUrl as redisUrl,
  testSecretsKeyring,
  waitFor,
  type SeededPractice,
  type TestTriage,
} from '@gpc/test-support';
import { FhirClient } from '../src/fhir/client';
import { createWriteBackQueue } from '../src/queue';
import { startWriteBackWorker } from '../src/worker';

interface WriteBackView {
  status: string;
  attempts: number;
  lastError: string | null;
}

/** A triage app and a record worker with one outbound policy, and the steps an admin and a clinician take. */
async function startWorld(outbound: OutboundPolicy) {
  const prefix = `gpc-test-${randomUUID()}`;
  const triage = await startTriage({ after }, { writeBackQueue: { prefix }, outbound });
  const worker = startWriteBackWorker({
    queue: createWriteBackQueue(redisUrl, {
      prefix,
      retry: { baseDelayMs: 50, maxDelayMs: 200 },
      perPracticeLimit: { max: 100, durationMs: 1000 },
    }),
    pool: triage.db.pool,
    fhir: new FhirClient({ timeoutMs: 3000, outbound }),
    readDocument: (key) => Promise.reject(new Error(`no document ${key} in these tests`)),
    logger: pino({ level: 'silent' }),
    concurrency: 2,
    practiceConcurrency: 2,
    maxAttempts: 2,
    sweepIntervalMs: 0,
    sweepAfterMs: 1000,
    secrets: testSecretsKeyring,
  });
  triage.after(() => worker.close());
  return { triage, ...steps(triage) };
}

function steps({ as, db }: TestTriage) {
  /** The practice's admin sets where summaries are filed, through the settings API. */
  const setGpSystem = (practice: SeededPractice, baseUrl: string, auth: FhirAuth = { type: 'none' }) =>
    as(practice, 'admin').inject({ method: 'PATCH', url: '/practice', payload: { fhir: { baseUrl, auth } } });

  /** A request of the practice, closed by its clinician: its write-back starts. */
  async function closedRequest(practice: SeededPractice): Promise<string> {
    const id = await seedConsultation(db.pool, practice.id);
    const closed = await as(practice, 'clinician').inject({
      method: 'POST',
      url: `/consultations/${id}/close`,
      payload: { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'Reviewed.' },
    });
    assert.equal(closed.statusCode, 200, closed.body);
    return id;
  }

  /** The write-back as the practice's staff see it, once it has come to `status`. */
  const settled = (practice: SeededPractice, id: string, status: 'filed' | 'failed') =>
    waitFor(
      `write-back ${status}`,
      async () => {
        const response = await as(practice, 'admin').inject({ url: `/consultations/${id}` });
        const view = response.json<{ writeBack: WriteBackView }>().writeBack;
        return view.status === status ? view : undefined;
      },
      { timeoutMs: 20_000 },
    );

  return { setGpSystem, closedRequest, settled };
}

describe("cross-practice token theft: a practice admin names another practice's token endpoint (real record worker, token endpoint, FHIR server)", async () => {
  const { triage, setGpSystem, closedRequest, settled } = await startWorld({ allowLoopbackHttp: true });
  const { practiceA: victim, practiceB: attacker } = triage;
  const fhir = await startLocalFhir();
  triage.after(() => fhir.server.close());
  const tokenEndpoint = await startTokenEndpoint({ 'a81001-gpc': 'the-victim-practice-secret' });
  triage.after(() => tokenEndpoint.close());
  // the attacker's own "GP system", which records the bearer token it is sent
  const capture = await startRecordingServer(() => ({ status: 500 }));
  triage.after(() => capture.close());

  it("never sends one practice's cached GP-system token to another practice's base URL", async () => {
    const victimAuth: FhirAuth = {
      type: 'client_credentials',
      tokenUrl: tokenEndpoint.url,
      clientId: 'a81001-gpc',
      clientSecret: 'the-victim-practice-secret',
    };
    assert.equal((await setGpSystem(victim, fhir.base, victimAuth)).statusCode, 200);
    const filed = await closedRequest(victim);
    await settled(victim, filed, 'filed');
    assert.equal(tokenEndpoint.issued.length, 1, 'the victim practice got its token');
    const victimToken = tokenEndpoint.issued[0]!.token;

    // the attack: the same token URL, junk credentials (or the victim's client id with a guessed
    // secret), and a base URL of the attacker's own
    for (const clientId of ['junk', 'a81001-gpc']) {
      const set = await setGpSystem(attacker, `${capture.origin}/fhir/R4`, {
        type: 'client_credentials',
        tokenUrl: tokenEndpoint.url,
        clientId,
        clientSecret: 'a guess',
      });
      assert.equal(set.statusCode, 200, set.body);
      const id = await closedRequest(attacker);
      const view = await settled(attacker, id, 'failed');
      const seen = capture.received.map((request) => request.headers.authorization ?? '');
      assert.ok(
        !seen.some((header) => header.includes(victimToken)),
        `the victim's token reached the attacker's server: ${seen.join(', ')}`,
      );
      assert.equal(view.lastError, 'the token endpoint refused the client credentials (HTTP 401)');
    }
    assert.equal(capture.received.length, 0, "nothing was sent to the attacker's server");
    assert.equal(
      tokenEndpoint.refused(),
      2,
      'the token endpoint was asked, with the attacker’s credentials, and refused',
    );
    assert.equal(tokenEndpoint.issued.length, 1, 'no token was issued to the attacker');
  });
});

describe('outbound requests to GP systems in development mode (plain http to loopback allowed): redirects and far sides’ words', async () => {
  const { triage, setGpSystem, closedRequest, settled } = await startWorld({ allowLoopbackHttp: true });
  const practice = triage.practiceA;
  const fhir = await startLocalFhir();
  triage.after(() => fhir.server.close());
  const tokenEndpoint = await startTokenEndpoint({ 'a81001-gpc': 'secret' });
  triage.after(() => tokenEndpoint.close());
  const far = await startRecordingServer();
  triage.after(() => far.close());
  const secret = `SECRET-${randomUUID()}`;

  it('does not follow a GP system that redirects, to the base URL or the token URL', async () => {
    far.answerWith(() => ({ status: 302, headers: { location: `${fhir.base}` } }));
    assert.equal((await setGpSystem(practice, `${far.origin}/fhir/R4`)).statusCode, 200);
    const id = await closedRequest(practice);
    const view = await settled(practice, id, 'failed');
    assert.equal(view.lastError, 'the GP system answered with a redirect (302), which is not followed');
    assert.equal((await compositionsFor(fhir.base, id)).length, 0, 'nothing reached where it pointed');

    far.answerWith(() => ({ status: 307, headers: { location: tokenEndpoint.url } }));
    const auth: FhirAuth = {
      type: 'client_credentials',
      tokenUrl: `${far.origin}/token`,
      clientId: 'a81001-gpc',
      clientSecret: 'secret',
    };
    assert.equal((await setGpSystem(practice, fhir.base, auth)).statusCode, 200);
    const second = await closedRequest(practice);
    const refused = await settled(practice, second, 'failed');
    assert.equal(
      refused.lastError,
      'the token endpoint answered with a redirect (307), which is not followed',
    );
    assert.equal(tokenEndpoint.issued.length + tokenEndpoint.refused(), 0, 'the redirect was not followed');
  });

  it("shows staff what failed, never the far side's error body or reason phrase", async () => {
    far.answerWith(() => ({
      status: 500,
      statusText: secret,
      headers: { 'content-type': 'application/fhir+json' },
      body: JSON.stringify({
        resourceType: 'OperationOutcome',
        issue: [{ severity: 'error', code: 'exception', diagnostics: `db password ${secret}` }],
      }),
    }));
    assert.equal((await setGpSystem(practice, `${far.origin}/fhir/R4`)).statusCode, 200);
    const id = await closedRequest(practice);
    const view = await settled(practice, id, 'failed');
    assert.equal(view.lastError, 'the GP system answered 500');

    far.answerWith(() => ({ status: 500, statusText: secret, body: `<html>${secret}</html>` }));
    const auth: FhirAuth = {
      type: 'client_credentials',
      tokenUrl: `${far.origin}/token`,
      clientId: 'a81001-gpc',
      clientSecret: 'secret',
    };
    assert.equal((await setGpSystem(practice, fhir.base, auth)).statusCode, 200);
    const second = await closedRequest(practice);
    const refused = await settled(practice, second, 'failed');
    assert.equal(refused.lastError, 'the token endpoint refused the client credentials (HTTP 500)');
    assert.ok(!JSON.stringify([view, refused]).includes(secret));
  });

  it('refuses private and metadata addresses even in development mode', async () => {
    for (const [url, reason] of [
      ['http://10.0.0.1/fhir/R4', 'it is a private network address'],
      ['http://169.254.169.254/latest/meta-data/', 'it is a cloud metadata address'],
    ] as const) {
      const set = await setGpSystem(practice, url);
      assert.equal(set.statusCode, 400);
      assert.equal(
        set.json<{ message: string }>().message,
        `the GP system's address is not allowed: ${reason}`,
      );
    }
  });
});

describe('server-side request forgery through the GP system settings, as production runs (https to public addresses only)', async () => {
  const { triage, setGpSystem, closedRequest, settled } = await startWorld(strictOutbound);
  const practice = triage.practiceA;
  const { db } = triage;
  // an internal service on this machine: what an attacker would like to reach
  const internal = await startRecordingServer(() => ({ status: 200, body: 'internal' }));
  triage.after(() => internal.close());
  const port = internal.port;
  // a name other than "localhost" that resolves to loopback (the machine's own name, here in /etc/hosts):
  // only the check of the address the socket resolves can catch it
  const ownName = hostname();
  const ownNameIsLoopback = await lookup(ownName)
    .then(({ address }) => address.startsWith('127.') || address === '::1')
    .catch(() => false);

  const loopback = 'it is a loopback address (this server itself)';
  const refusedTargets = [
    [`https://127.0.0.1:${port}/fhir/R4`, loopback],
    [`https://localhost:${port}/fhir/R4`, loopback],
    ['https://169.254.169.254/latest/meta-data/', 'it is a cloud metadata address'],
    ['https://10.0.0.1/fhir/R4', 'it is a private network address'],
    [`https://[::ffff:127.0.0.1]:${port}/fhir/R4`, loopback],
    ['http://gp.example.org/fhir/R4', 'it is not encrypted (plain http, or SMTP without TLS)'],
  ] as const;

  it('refuses loopback, metadata, private and plain-http GP system and token URLs when an admin sets them, saying why', async () => {
    for (const [url, reason] of refusedTargets) {
      const base = await setGpSystem(practice, url);
      assert.equal(base.statusCode, 400, url);
      assert.equal(
        base.json<{ message: string }>().message,
        `the GP system's address is not allowed: ${reason}`,
      );
      const token = await setGpSystem(practice, 'https://gp.example.org/fhir/R4', {
        type: 'client_credentials',
        tokenUrl: url,
        clientId: 'id',
        clientSecret: 'secret',
      });
      assert.equal(token.statusCode, 400, url);
      assert.equal(
        token.json<{ message: string }>().message,
        `the GP system's token endpoint is not allowed: ${reason}`,
      );
    }
    assert.equal(internal.connections(), 0);
  });

  it('refuses them again when the worker connects (settings stored before the check, or a name resolving inside), and nothing connects', async () => {
    const targets: (readonly [string, string])[] = [...refusedTargets];
    if (ownNameIsLoopback) targets.push([`https://${ownName}:${port}/fhir/R4`, loopback]);
    for (const [url, reason] of targets) {
      await db.pool.query(
        'UPDATE practice SET fhir_base_url = $2, fhir_auth = \'{"type":"none"}\' WHERE id = $1',
        [practice.id, url],
      );
      const id = await closedRequest(practice);
      const view = await settled(practice, id, 'failed');
      assert.equal(view.lastError, `the GP system's address is not allowed: ${reason}`, url);
      assert.equal(view.attempts, 1, 'not retried: only a change of settings mends it');

      await db.pool.query('UPDATE practice SET fhir_base_url = $2, fhir_auth = $3 WHERE id = $1', [
        practice.id,
        'https://gp.example.org/fhir/R4',
        storedSetting(practice.id, 'fhir_auth', {
          type: 'client_credentials',
          tokenUrl: url,
          clientId: 'id',
          clientSecret: 'secret',
        }),
      ]);
      const second = await closedRequest(practice);
      const refused = await settled(practice, second, 'failed');
      assert.equal(refused.lastError, `the GP system's token endpoint is not allowed: ${reason}`, url);
    }
    assert.equal(internal.connections(), 0, 'nothing connected to the internal service');
  });
});
