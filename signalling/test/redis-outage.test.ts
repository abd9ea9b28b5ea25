import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { io as connect, type Socket } from 'socket.io-client';
import { defaultTokenIssuer, type Ack, type ClientResults, type CallTokenClaims } from '@gpc/contracts';
import { freePort, startRedis, track, waitFor, type ChildService, type RedisServer } from '@gpc/test-support';
import { ensureMediasoupWorker } from '../../scripts/src/mediasoup-worker';
import { generateSigningKey, TokenKeys } from '@gpc/triage';

const repoRoot = path.resolve(import.meta.dirname, '../..');

function request<E extends keyof ClientResults>(
  socket: Socket,
  event: E,
  payload: unknown,
): Promise<Ack<ClientResults[E]>> {
  return socket.timeout(5000).emitWithAck(event, payload) as Promise<Ack<ClientResults[E]>>;
}

async function ok<E extends keyof ClientResults>(
  socket: Socket,
  event: E,
  payload: unknown,
): Promise<ClientResults[E]> {
  const result = await request(socket, event, payload);
  assert.ok(result.ok, `${event}: ${JSON.stringify(result)}`);
  return result.data;
}

/**
 * The call node as production runs it (`signalling/src/server.ts` in its own process, so an
 * unhandled rejection would end it as it would in production), on a Redis of the test's own that
 * the test kills and starts again. Media does not depend on Redis: calls go on through an outage.
 */
describe('signalling through a Redis outage: the call node as a real process, on a Redis of its own', () => {
  let redis: RedisServer;
  let node: ChildService;
  let url: string;
  // triage's keys, as it signs call tokens; the node is given their public halves only
  const tokens = new TokenKeys([generateSigningKey()], defaultTokenIssuer);
  const sockets: Socket[] = [];

  before(async () => {
    redis = await startRedis();
    // down before the node starts: it must start anyway
    await redis.down();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    node = track(
      spawn(process.execPath, ['--import', 'tsx', 'signalling/src/server.ts'], {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH ?? '',
          MEDIASOUP_WORKER_BIN: await ensureMediasoupWorker({ log: () => undefined }),
          SIGNALLING_PORT: String(port),
          SIGNALLING_RTC_PORT: String(await freePort()),
          SIGNALLING_JWKS: JSON.stringify(tokens.publicJwks()),
          SIGNALLING_REDIS_URL: redis.url,
          SIGNALLING_LOG_LEVEL: 'info',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
  });
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await node.stop();
    await redis.remove();
  });

  const readiness = async () => {
    const response = await fetch(`${url}/readyz`);
    return { status: response.status, body: (await response.json()) as { down?: string[] } };
  };
  const assertAlive = () => assert.equal(node.child.exitCode, null, `the call node exited: ${node.output()}`);

  /** The adapter's subscriptions are in place on Redis: other nodes' events reach this one. */
  async function subscribedOnRedis(): Promise<boolean> {
    const client = new Redis(redis.url, { maxRetriesPerRequest: 0, lazyConnect: true });
    client.on('error', () => undefined);
    try {
      await client.connect();
      const patterns = (await client.call('PUBSUB', 'NUMPAT')) as number;
      const channels = (await client.call('PUBSUB', 'CHANNELS', 'socket.io-request#*')) as string[];
      return patterns >= 1 && channels.length >= 1;
    } finally {
      client.disconnect();
    }
  }

  /** A call token for a new call, as triage signs them. */
  const callToken = (
    call: Pick<CallTokenClaims, 'callId' | 'consultationId'>,
    role: CallTokenClaims['role'],
  ) =>
    tokens.sign(
      'call',
      { typ: 'call', sub: randomUUID(), practiceId: 'practice-a', name: 'Pat Example', role, ...call },
      900,
    );

  async function open(auth: Record<string, unknown>): Promise<Socket> {
    const socket = connect(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
    sockets.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (error) => reject(new Error(error.message)));
    });
    return socket;
  }

  /** A clinician and an admitted patient in one call, both joined. */
  async function callInProgress(): Promise<{ clinician: Socket; patient: Socket }> {
    const call = { callId: randomUUID(), consultationId: randomUUID() };
    const clinician = await open({ token: callToken(call, 'clinician') });
    await ok(clinician, 'call:join', {});
    const patient = await open({ token: callToken(call, 'patient') });
    const joined = await ok(patient, 'call:join', {});
    const admitted = new Promise((resolve) => patient.once('admitted', resolve));
    await ok(clinician, 'call:admit', { participantId: joined.self.participantId });
    await admitted;
    return { clinician, patient };
  }

  /** A chat message from the patient is acknowledged and reaches the clinician. */
  async function chatWorks(call: { clinician: Socket; patient: Socket }, text: string): Promise<void> {
    const arrives = new Promise<{ text: string }>((resolve) =>
      call.clinician.once('chat:message', (message: { text: string }) => resolve(message)),
    );
    await ok(call.patient, 'chat:send', { text });
    assert.equal((await arrives).text, text);
  }

  it('starts while Redis is down, says not ready naming Redis, refuses joins with "try again" until Redis is up, then runs calls and subscribes', async () => {
    await waitFor(
      () => `the call node to listen: ${node.output()}`,
      async () => (await fetch(`${url}/health`).catch(() => undefined))?.status === 200,
      { timeoutMs: 30_000, intervalMs: 200 },
    );
    const down = await readiness();
    assert.equal(down.status, 503);
    assert.deepEqual(down.body.down, ['redis']);
    // who holds a call's links is kept in Redis: without it nobody can be checked, so nobody joins
    await assert.rejects(callInProgress(), /unavailable/);

    await redis.up();
    await waitFor('ready once Redis is up', async () => (await readiness()).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    assert.ok(await subscribedOnRedis(), 'the adapter subscribed when Redis came up');
    await chatWorks(await callInProgress(), 'after Redis came up');
    assertAlive();
  });

  it('keeps a call in progress working while Redis is killed and down for 10 s, never exits, and is ready again after', async () => {
    const call = await callInProgress();
    await chatWorks(call, 'before the outage');
    await redis.down();
    const outageStarted = Date.now();
    await waitFor('not ready while Redis is down', async () => (await readiness()).status === 503, {
      timeoutMs: 5000,
      intervalMs: 100,
    });
    assert.deepEqual((await readiness()).body.down, ['redis']);
    let during = 0;
    while (Date.now() - outageStarted < 10_000) {
      // chat (through the call's room, which the adapter also publishes) and media signalling
      await chatWorks(call, `during the outage ${during++}`);
      const transport = await ok(call.patient, 'transport:create', { direction: 'send' });
      assert.ok(transport.iceCandidates.length > 0);
      assertAlive();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
    assert.ok(during >= 5, `${during} rounds during the outage`);
    assert.equal((await readiness()).status, 503, 'still not ready while Redis is down');

    await redis.up();
    await waitFor('ready again once Redis is back', async () => (await readiness()).status === 200, {
      timeoutMs: 15_000,
      intervalMs: 200,
    });
    assert.ok(await subscribedOnRedis(), 'the adapter subscribed again after the outage');
    await chatWorks(call, 'after the outage');
    assertAlive();
    const output = node.output();
    assert.doesNotMatch(output, /missing 'error' handler/);
    assert.match(output, /Redis back: events to other call nodes resume/);
    // the outage is logged as it starts, per client, not on every reconnect attempt
    const unreachable = output.split('\n').filter((line) => line.includes('Redis unreachable')).length;
    // four clients: the adapter's two, staff revocations' and call links'
    assert.ok(unreachable <= 8, `${unreachable} 'Redis unreachable' lines for two outages`);
  });
});
