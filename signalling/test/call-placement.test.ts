import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import type { JoinResult } from '@gpc/contracts';
import { callNodeKeyPrefix, callNodesKey, defaultTokenIssuer } from '@gpc/contracts';
import { freePort, seedConsultation, startRedis, startTriage, track, waitFor } from '@gpc/test-support';
import { generateSigningKey, liveCallNodes, placeCall, TokenKeys } from '@gpc/triage';
import { opusRtpParameters } from '../../media/test/support/rtp-parameters';
import { NodePresence } from '../src/calls/node-presence';
import { startCallNode, type CallNode } from './support/call-node';
import { CallSockets, nextEvent, ok } from './support/call-sockets';

const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

describe('calls placed across three call nodes: spread by load, placed again when a node dies, none on a draining node', async () => {
  // the test's own key space, so nodes of other tests on the same Redis are not placed on
  const redis = new Redis(redisUrl, { keyPrefix: `gpc-test-${randomUUID()}:` });
  const signingKey = generateSigningKey();
  // triage places the calls it makes and signs their tokens; the nodes verify them with its public keys
  const triage = await startTriage({ after }, { callPlacement: redis, signingKeys: [signingKey] });
  const clinicianApi = triage.as(triage.practiceA, 'clinician');
  const nodes: { id: string; node: CallNode; presence: NodePresence }[] = [];
  const sockets = new CallSockets();

  before(async () => {
    const signingKeys = new TokenKeys([signingKey], defaultTokenIssuer);
    for (let i = 0; i < 3; i++) {
      const node = await startCallNode({ signingKeys });
      const presence = new NodePresence({
        redis,
        nodeId: `node-${i}`,
        url: node.url,
        calls: node.app.calls,
        media: node.media,
        logger: pino({ level: 'silent' }),
        heartbeatMs: 200,
        ttlMs: 1000,
      });
      await presence.start();
      nodes.push({ id: `node-${i}`, node, presence });
    }
  });
  after(async () => {
    sockets.closeAll();
    for (const { node, presence } of nodes) {
      await presence.stop();
      await node.close();
    }
    redis.disconnect();
  });

  const nodeAt = (url: string) => nodes.find(({ node }) => node.url === url)!;

  /** Triage's fresh host token for the call, and where the call lives now. */
  async function hostToken(callId: string) {
    const response = await clinicianApi.inject({ method: 'POST', url: `/calls/${callId}/host-token` });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ token: string; nodeUrl: string }>();
  }

  /** Where the patient's page is told the call lives now (it asks before each join and rejoin). */
  async function patientAsks(patientToken: string) {
    const response = await triage.app.inject({
      method: 'GET',
      url: '/call-placement',
      headers: { authorization: `Bearer ${patientToken}` },
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ nodeId: string; nodeUrl: string }>();
  }

  /** A call made by triage's POST /calls, with its clinician in and its patient admitted on the node it was placed on. */
  async function placedCall() {
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const created = await clinicianApi.inject({ method: 'POST', url: '/calls', payload: { consultationId } });
    assert.equal(created.statusCode, 201, created.body);
    const { callId, patientLink, hostToken, nodeUrl } = created.json<{
      callId: string;
      patientLink: string;
      hostToken: string;
      nodeUrl: string;
    }>();
    const call = { callId, practiceId: triage.practiceA.id, patientToken: patientLink.split('#t=')[1]! };
    assert.equal(
      (await patientAsks(call.patientToken)).nodeUrl,
      nodeUrl,
      'the patient is sent where the call is',
    );
    const { node } = nodeAt(nodeUrl);
    const clinician = await sockets.connect(node, { token: hostToken });
    await ok(clinician, 'call:join', {});
    const patient = await sockets.connect(node, { token: call.patientToken });
    const join: JoinResult = await ok(patient, 'call:join', {});
    const admitted = nextEvent(patient, 'admitted');
    await ok(clinician, 'call:admit', { participantId: join.self.participantId });
    await admitted;
    return { call, nodeUrl, clinician, patient, holderKey: join.holderKey };
  }

  it('places each new call on the least-loaded live node, so three calls land one on each', async () => {
    const calls = [await placedCall(), await placedCall(), await placedCall()];
    assert.equal(new Set(calls.map((c) => c.nodeUrl)).size, 3, 'one call on each node');
    for (const { node } of nodes) assert.equal([...node.app.calls.all()].length, 1);
    // a placed call stays where it is while its node lives
    for (const { call, nodeUrl } of calls) assert.equal((await hostToken(call.callId)).nodeUrl, nodeUrl);
    const statuses = await waitFor('every node to report its call', async () => {
      const live = await liveCallNodes(redis);
      return live.length === 3 && live.every((n) => n.calls === 1) && live;
    });
    assert.deepEqual(statuses.map((n) => n.id).sort(), ['node-0', 'node-1', 'node-2']);
  });

  it('places the calls of a node that stopped heart-beating on another, where the patient resumes with the holder key (no new admission) and media flows again', async () => {
    const { call, nodeUrl, holderKey } = await placedCall();
    const dead = nodeAt(nodeUrl);
    // the node dies: no more heartbeats, its sockets and media gone
    dead.presence.silence();
    await dead.node.close();

    // the patient's page asks where its call lives now, and the clinician's with its fresh host token
    const moved = await waitFor('the call to be placed on another node', async () => {
      const placement = await patientAsks(call.patientToken);
      return placement.nodeUrl !== nodeUrl && placement;
    });
    const host = await hostToken(call.callId);
    assert.equal(host.nodeUrl, moved.nodeUrl, 'the clinician is sent to the same node');
    const { node } = nodeAt(moved.nodeUrl);
    const clinician = await sockets.connect(node, { token: host.token });
    const clinicianJoin: JoinResult = await ok(clinician, 'call:join', {});
    const offered = nextEvent<[{ producerId: string }]>(clinician, 'producer:new');
    const patient = await sockets.connect(node, { token: call.patientToken, holderKey });
    const join: JoinResult = await ok(patient, 'call:join', {});
    assert.equal(join.self.state, 'admitted', 'the patient is back without a new admission');

    const send = await ok(patient, 'transport:create', { direction: 'send' });
    const produced = await ok(patient, 'produce', {
      transportId: send.transportId,
      kind: 'audio',
      rtpParameters: opusRtpParameters(33333333, 'moved'),
    });
    const [{ producerId }] = await offered;
    assert.equal(producerId, produced.producerId);
    const recv = await ok(clinician, 'transport:create', { direction: 'recv' });
    await ok(clinician, 'consume', {
      transportId: recv.transportId,
      producerId,
      rtpCapabilities: clinicianJoin.routerRtpCapabilities,
    });
    const room = node.app.calls.get(call.callId, call.practiceId)?.room;
    assert.equal(room?.counts().consumers, 1, 'the clinician receives the patient on the new node');
    nodes.splice(nodes.indexOf(dead), 1);
    await dead.presence.stop();
  });

  it('places no new call on a draining node, keeps its calls there, and finishes draining when they have ended', async () => {
    const { call, clinician, nodeUrl } = await placedCall();
    const draining = nodeAt(nodeUrl);
    const open = nodes.find((n) => n !== draining)!;
    let drained = false;
    const drainedAll = draining.presence.drain(100).then(() => (drained = true));
    await waitFor('the node to say it is draining', async () =>
      (await liveCallNodes(redis)).some((n) => n.id === draining.id && n.draining),
    );
    for (let i = 0; i < 3; i++) {
      const placement = await placeCall(redis, randomUUID(), 600);
      assert.equal(placement.nodeUrl, open.node.url, 'new calls go to the node that takes them');
    }
    assert.equal((await hostToken(call.callId)).nodeUrl, draining.node.url, 'its call stays');
    assert.equal(drained, false, 'it drains while calls are left on it');
    // every call on the draining node ends
    for (const session of [...draining.node.app.calls.all()]) {
      if (session.id === call.callId) await ok(clinician, 'call:end', {});
      else draining.node.app.calls.forget(session.id);
    }
    await drainedAll;
  });

  it('drains a call-node process on SIGTERM: it says so, takes no new call, and exits once its call has ended', async () => {
    // a Redis of its own: the process announces itself under the real keys
    const own = await startRedis();
    after(() => own.remove());
    const ownRedis = new Redis(own.url);
    after(() => ownRedis.disconnect());
    const port = await freePort();
    const keys = new TokenKeys([signingKey], defaultTokenIssuer);
    const node = track(
      spawn(process.execPath, ['--import', 'tsx', 'signalling/src/server.ts'], {
        cwd: path.resolve(import.meta.dirname, '../..'),
        env: {
          PATH: process.env.PATH ?? '',
          MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN ?? '',
          SIGNALLING_PORT: String(port),
          SIGNALLING_RTC_PORT: String(await freePort()),
          SIGNALLING_JWKS: JSON.stringify(keys.publicJwks()),
          SIGNALLING_REDIS_URL: own.url,
          SIGNALLING_PUBLIC_URL: `http://127.0.0.1:${port}`,
          SIGNALLING_NODE_ID: 'drained-node',
          SIGNALLING_LOG_LEVEL: 'warn',
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    after(() => node.kill());
    await waitFor(
      () => `the call node to announce itself: ${node.output()}`,
      async () => (await liveCallNodes(ownRedis)).some((n) => n.id === 'drained-node' && !n.draining),
      { timeoutMs: 60_000 },
    );
    const call = { callId: randomUUID(), consultationId: randomUUID(), practiceId: triage.practiceA.id };
    const token = keys.sign(
      'call',
      { typ: 'call', sub: randomUUID(), name: 'Dr Test', role: 'clinician', ...call },
      300,
    );
    const clinician = await sockets.connect({ url: `http://127.0.0.1:${port}` }, { token });
    await ok(clinician, 'call:join', {});

    node.child.kill('SIGTERM');
    await waitFor('the node to say it is draining', async () =>
      (await liveCallNodes(ownRedis)).some((n) => n.id === 'drained-node' && n.draining && n.calls === 1),
    );
    await assert.rejects(placeCall(ownRedis, randomUUID(), 600), /No call node is taking calls/);
    assert.equal(node.child.exitCode, null, 'it stays while its call goes on');
    await ok(clinician, 'call:end', {});
    assert.equal(await node.exited, 0);
    assert.deepEqual(await liveCallNodes(ownRedis), [], 'it withdrew as it stopped');
  });

  it('never places a call on a node announced at another site’s /call-node/ path (another deployment sharing the Redis)', async () => {
    const other = {
      id: 'other-site-node',
      url: 'http://other-site.example/call-node/other-site-node',
      ...{ calls: 0, rooms: 0, peers: 0, consumers: 0, cpu: 0, draining: false, at: Date.now() },
    };
    await redis
      .multi()
      .set(callNodeKeyPrefix + other.id, JSON.stringify(other), 'PX', 60_000)
      .sadd(callNodesKey, other.id)
      .exec();
    try {
      for (let i = 0; i < 3; i++) {
        const placement = await placeCall(redis, randomUUID(), 600, 'http://this-site.example');
        assert.notEqual(placement.nodeId, other.id, 'not on the other site’s node, however idle');
      }
      const there = await placeCall(redis, randomUUID(), 600, 'http://other-site.example');
      assert.equal(there.nodeId, other.id, 'that site’s own calls may go there (the least loaded)');
    } finally {
      await redis.del(callNodeKeyPrefix + other.id);
    }
  });
});
