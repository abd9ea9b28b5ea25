import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import { StaffRevocation } from '@gpc/contracts';
import { startRedis, waitFor, type RedisServer } from '@gpc/test-support';
import { startCallNode, type CallNode } from './support/call-node';
import { CallSockets, ok, Refused } from './support/call-sockets';

/** Resolves once the socket is disconnected, with socket.io's reason. */
const disconnection = (socket: Socket) =>
  new Promise<string>((resolve) => socket.once('disconnect', (reason) => resolve(reason)));

/**
 * Triage announces a member of staff's revocation (stopped, demoted, reset) on Redis; every call
 * node closes their call sockets and refuses the token they held. While Redis is down, a staff
 * call socket still ends when its token does.
 */
describe('a revoked member of staff leaves their calls on the call node', () => {
  let redis: RedisServer;
  let node: CallNode;
  let publisher: Redis;
  const sockets = new CallSockets();

  before(async () => {
    redis = await startRedis();
    node = await startCallNode({ redisUrl: redis.url });
    publisher = new Redis(redis.url);
    publisher.on('error', () => undefined);
    // the node's revocation subscription is in place on Redis
    await waitFor('the call node to subscribe', async () => {
      const counts = (await publisher.call('PUBSUB', 'NUMSUB', StaffRevocation.channel)) as [string, number];
      return counts[1] >= 1;
    });
  });
  after(async () => {
    sockets.closeAll();
    publisher.disconnect();
    await node.close();
    await redis.remove();
  });

  /** A call hosted by this member of staff (a host call token, `sub` their staff id), with them and the patient connected. */
  async function hostedCall(staffId: string, ttlSeconds = 300) {
    const call = node.createCall();
    const token = call.hostToken({ sub: staffId }, ttlSeconds);
    const clinician = await sockets.connect(node, { token });
    await ok(clinician, 'call:join', {});
    const patient = await sockets.connect(node, { token: call.patientToken });
    await ok(patient, 'call:join', {});
    return { token, clinician, patient };
  }

  it('closes the member’s call socket within seconds of the revocation, and refuses their old token after', async () => {
    const staffId = randomUUID();
    const { token, clinician, patient } = await hostedCall(staffId);
    const bystander = await hostedCall(randomUUID());
    const closed = disconnection(clinician);
    const started = Date.now();
    await publisher.publish(StaffRevocation.channel, JSON.stringify({ staffId, at: Date.now() }));
    assert.equal(await closed, 'io server disconnect');
    assert.ok(Date.now() - started < 3000, `closed within seconds (${Date.now() - started} ms)`);
    assert.ok(patient.connected, 'the patient stays in the waiting room');
    assert.ok(bystander.clinician.connected, 'another clinician’s call goes on');

    await assert.rejects(sockets.connect(node, { token }), (error: unknown) => {
      assert.ok(error instanceof Refused);
      assert.equal(error.code, 'unauthorized');
      return true;
    });
  });

  it('closes the member’s call socket when it reconnects to Redis and reads a revocation it missed, and leaves a session begun since alone', async () => {
    const staffId = randomUUID();
    const missed = await hostedCall(staffId);
    await new Promise((resolve) => setTimeout(resolve, 5));
    const at = Date.now();
    await new Promise((resolve) => setTimeout(resolve, 5));
    const since = await hostedCall(staffId);
    const closed = disconnection(missed.clinician);
    // announced while this node was cut off: kept in the recent set, never heard on the channel
    await publisher.zadd(StaffRevocation.recentKey, at, JSON.stringify({ staffId, at }));
    await new Promise((resolve) => setTimeout(resolve, 300));
    assert.ok(missed.clinician.connected, 'not heard live');
    // the node's subscription drops and comes back, as after an outage
    await publisher.call('CLIENT', 'KILL', 'TYPE', 'pubsub');
    assert.equal(await closed, 'io server disconnect');
    assert.ok(since.clinician.connected, 'a session begun after the revocation stays');
    assert.ok(missed.patient.connected);
    await assert.rejects(sockets.connect(node, { token: missed.token }), Refused);
  });

  it('closes a member of staff’s call socket when their token expires, while Redis is down', async () => {
    const issued = Date.now();
    const { clinician, patient } = await hostedCall(randomUUID(), 5);
    const closed = disconnection(clinician);
    // no revocation can reach the node now: the token's lifetime is what ends the socket
    await redis.down();
    try {
      assert.equal(await closed, 'io server disconnect');
      const lasted = Date.now() - issued;
      assert.ok(lasted >= 3500 && lasted < 8000, `closed at the token’s expiry (${lasted} ms after issue)`);
      assert.ok(patient.connected, 'the patient’s link lasts longer');
    } finally {
      await redis.up();
    }
  });
});
