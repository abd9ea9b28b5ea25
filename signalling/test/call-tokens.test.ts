import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createServer, request as httpRequest, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { io as connect } from 'socket.io-client';
import { defaultTokenIssuer, type CallTokenClaims } from '@gpc/contracts';
import { generateSigningKey, TokenKeys } from '@gpc/triage';
import {
  seedConsultation,
  startTriage,
  waitFor,
  type TestLifetime,
  type TestTriage,
} from '@gpc/test-support';
import { SignallingConfigSchema } from '../src/config';
import { startCallNode, type CallNode } from './support/call-node';

/**
 * Call tokens are triage's: it makes the call and signs its links and host tokens (EdDSA, aud
 * signalling); the call node only verifies them, with the public keys triage serves at
 * /.well-known/jwks.json, and holds no key that signs. Real triage (its own database), real call
 * node, real sockets.
 */

/** Closes the node once the sockets the test closed are gone there too (their events are then sent). */
async function closeQuietly(node: CallNode): Promise<void> {
  await waitFor('the call node to see its sockets go', () => node.app.io.of('/').sockets.size === 0, {
    timeoutMs: 5000,
  });
  await node.close();
}

/** Connects to the node with this token: 'connected', or the refusal's code. */
async function handshake(node: CallNode, token: string): Promise<string> {
  const socket = connect(node.url, {
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  try {
    return await new Promise<string>((resolve) => {
      socket.once('connect', () => resolve('connected'));
      socket.once('connect_error', (error) => resolve(error.message));
    });
  } finally {
    socket.disconnect();
  }
}

/** A call triage made for a request of practice A: the patient's link token and the clinician's host token. */
async function callFromTriage(
  triage: TestTriage,
): Promise<{ patientToken: string; hostToken: string; patientLink: string }> {
  const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
  const created = await triage
    .as(triage.practiceA, 'clinician')
    .inject({ method: 'POST', url: '/calls', payload: { consultationId } });
  assert.equal(created.statusCode, 201, created.body);
  const { patientLink, hostToken } = created.json<{ patientLink: string; hostToken: string }>();
  return { patientToken: new URL(patientLink).hash.replace('#t=', ''), hostToken, patientLink };
}

const claimsOf = (token: string) =>
  JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as CallTokenClaims & { aud: string };

function hs256(claims: object, secret: string): string {
  const part = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const now = Math.floor(Date.now() / 1000);
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ ...claims, iat: now, exp: now + 600 })}`;
  return `${unsigned}.${createHmac('sha256', secret).update(unsigned).digest('base64url')}`;
}

/**
 * A stable address in front of triage (as a deployment's load balancer is): the JWKS URL the call
 * node is given, forwarding to whichever triage is current while the test rolls a key rotation.
 */
async function stableFront(t: TestLifetime, target: () => string): Promise<string> {
  const server: Server = createServer((request, response) => {
    const upstream = new URL(request.url ?? '/', target());
    const forwarded = httpRequest(upstream, { method: request.method }, (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    });
    forwarded.on('error', () => response.writeHead(502).end());
    request.pipe(forwarded);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => new Promise((resolve) => server.close(resolve)));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('call tokens: triage signs, the call node verifies with its JWKS and holds no signing key', () => {
  it("lets a patient's link made by triage into the call, with the name from the request; the host token brings the clinician", async (t) => {
    const triage = await startTriage(t, { listen: true });
    const node = await startCallNode({ jwksUrl: `${triage.url}/.well-known/jwks.json` });
    t.after(() => closeQuietly(node));
    const { patientToken, hostToken } = await callFromTriage(triage);
    const patient = claimsOf(patientToken);
    assert.equal(patient.aud, 'gpc-signalling');
    assert.equal(patient.role, 'patient');
    assert.equal(patient.name, 'Pat Example', "the request's own name, not the page's");
    const host = claimsOf(hostToken);
    assert.equal(host.role, 'clinician');
    assert.equal(host.sub, triage.practiceA.staff.clinician.id, 'the host token names the member of staff');
    assert.ok(
      (host as unknown as { exp: number; iat: number }).exp - (host as unknown as { iat: number }).iat <= 300,
    );

    assert.equal(await handshake(node, hostToken), 'connected');
    assert.equal(await handshake(node, patientToken), 'connected');
    const session = node.app.calls.get(patient.callId, triage.practiceA.id);
    assert.ok(session, 'the call opened on the node from its tokens');
    assert.equal(session.consultationId, patient.consultationId);
  });

  it('refuses at the call node a staff access token, thread tokens, an unknown key, the old shared secret, and a wrong audience or issuer', async (t) => {
    const key = generateSigningKey();
    const triage = await startTriage(t, { listen: true, signingKeys: [key] });
    const node = await startCallNode({ jwksUrl: `${triage.url}/.well-known/jwks.json` });
    t.after(() => closeQuietly(node));
    const { hostToken } = await callFromTriage(triage);
    const claims = claimsOf(hostToken);
    const { aud: _aud, ...callClaims } = claims;
    assert.equal(await handshake(node, hostToken), 'connected');

    assert.equal(
      await handshake(node, triage.as(triage.practiceA, 'admin').token),
      'unauthorized',
      'a staff access token',
    );
    const ours = new TokenKeys([key], defaultTokenIssuer);
    // the host token's own claims, signed with triage's own key, for each other audience
    for (const kind of ['staff', 'threadLink', 'threadSession'] as const)
      assert.equal(await handshake(node, ours.sign(kind, callClaims, 300)), 'unauthorized', `aud of ${kind}`);
    const elsewhere = new TokenKeys([key], 'https://another-issuer.example');
    assert.equal(
      await handshake(node, elsewhere.sign('call', callClaims, 300)),
      'unauthorized',
      'another iss',
    );
    const stranger = new TokenKeys([generateSigningKey()], defaultTokenIssuer);
    assert.equal(
      await handshake(node, stranger.sign('call', callClaims, 300)),
      'unauthorized',
      'an unknown key',
    );
    const impostor = new TokenKeys([generateSigningKey(String(key.kid))], defaultTokenIssuer);
    assert.equal(
      await handshake(node, impostor.sign('call', callClaims, 300)),
      'unauthorized',
      "a key claiming triage's kid",
    );
    assert.equal(
      await handshake(node, hs256(callClaims, 'a-shared-secret-that-is-long-enough-0123456789')),
      'unauthorized',
      'HS256 with a shared secret',
    );
    assert.equal(
      await handshake(node, hs256(callClaims, String(triage.app.tokens.publicJwks().keys[0]!.x))),
      'unauthorized',
    );
  });

  it('holds none of triage’s signing keys: its only secrets are the TURN secret and its own call-data key, which no triage token verifies with', async () => {
    // secrets of the call node's own, each good for one thing: TURN credentials for its participants,
    // and posting its calls' events to triage (POST /internal/call-events, nothing else)
    const ownSecrets: Record<string, string> = {
      turnSecret: 'SIGNALLING_TURN_SECRET',
      callEventsKey: 'SIGNALLING_CALL_EVENTS_KEY',
    };
    const keys = Object.keys(SignallingConfigSchema.properties);
    assert.ok(keys.includes('jwksUrl') && keys.includes('jwks'));
    for (const key of keys)
      if (!(key in ownSecrets)) assert.doesNotMatch(key, /secret|private|signing/i, `config key ${key}`);
    // the environment `npm start` builds for the call node, from its real settings and state folder
    const { applicationSpecs, devTokenKeys } = await import('../../scripts/src/start');
    const { loadLocalSettings } = await import('../../scripts/src/settings');
    const settings = { ...loadLocalSettings(), stateDir: mkdtempSync(path.join(tmpdir(), 'gpc-start-')) };
    const specs = applicationSpecs(settings, '/unused/mediasoup-worker');
    const signalling = specs.find((spec) => spec.name === 'signalling');
    const triage = specs.find((spec) => spec.name === 'triage');
    assert.ok(signalling && triage);
    const privateKeys = JSON.parse(devTokenKeys(settings.stateDir)) as { keys: { d: string; kid: string }[] };
    assert.equal(triage.env.TRIAGE_SIGNING_KEYS, JSON.stringify(privateKeys), 'triage signs');
    const ownNames = new Set(Object.values(ownSecrets));
    for (const [name, value] of Object.entries(signalling.env)) {
      for (const key of privateKeys.keys)
        assert.ok(!String(value).includes(key.d), `${name} holds a private key of triage's`);
      if (ownNames.has(name)) continue;
      assert.doesNotMatch(name, /SECRET|PRIVATE|SIGNING/, name);
      assert.doesNotMatch(String(value), /PRIVATE KEY|"d"\s*:/, name);
    }
    // its call-data key is its own: not one of triage's, and triage's JWKS (what call tokens are
    // verified with) does not list it, so it can mint no staff, patient or call token
    const callDataKey = JSON.parse(signalling.env.SIGNALLING_CALL_EVENTS_KEY ?? 'null') as {
      kid: string;
    } | null;
    assert.ok(callDataKey, 'npm start gives the call node its call-data key');
    assert.ok(!privateKeys.keys.some((key) => key.kid === callDataKey.kid), 'not a triage signing key');
    assert.match(signalling.env.SIGNALLING_JWKS_URL ?? '', /\/\.well-known\/jwks\.json$/);
    assert.equal(signalling.env.SIGNALLING_JWT_SECRET, undefined);
  });

  it('keeps verifying the previous key after a new current one is added, and stops once it is removed', async (t) => {
    const previous = generateSigningKey();
    const next = generateSigningKey();
    const before = await startTriage(t, { listen: true, signingKeys: [previous] });
    let current = before.url;
    const front = await stableFront(t, () => current);
    const node = await startCallNode({ jwksUrl: `${front}/.well-known/jwks.json`, jwksCacheSeconds: 1 });
    t.after(() => closeQuietly(node));
    const old = await callFromTriage(before);
    assert.equal(await handshake(node, old.patientToken), 'connected');

    // the rotation, in two steps as the README says: the new key is published beside the current
    // one first (listed second, it does not sign), and signs only once the call nodes' cache (and
    // its refetch cooldown: an unknown kid within it is refused) has run out
    const publishing = await startTriage(t, { listen: true, signingKeys: [previous, next] });
    current = publishing.url;
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const during = await startTriage(t, { listen: true, signingKeys: [next, previous] });
    current = during.url;
    const fresh = await callFromTriage(during);
    assert.equal(
      await handshake(node, fresh.hostToken),
      'connected',
      'the new key, published first, verifies',
    );
    assert.equal(await handshake(node, old.hostToken), 'connected', "the previous key's tokens still verify");

    // the previous key removed: once the node's cache runs out, its tokens stop
    const after = await startTriage(t, { listen: true, signingKeys: [next] });
    current = after.url;
    await waitFor(
      'the node to refuse the removed key',
      async () => (await handshake(node, old.hostToken)) === 'unauthorized',
      {
        timeoutMs: 10_000,
        intervalMs: 500,
      },
    );
    assert.equal(await handshake(node, fresh.hostToken), 'connected', 'the current key still verifies');
  });
});
