import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import { Redis } from 'ioredis';
import { StaffLive, StaffRevocation, tokenTimes, type StaffTokenClaims } from '@gpc/contracts';
import { generateSigningKey, redisRevocationLink } from '@gpc/triage';
import { failFastRedisOptions } from '../src/redis';
import {
  cleanupStack,
  seedConsultation,
  startRedis,
  startTriage,
  waitFor,
  type TestTriage,
} from '@gpc/test-support';
import { startCallNode } from '../../signalling/test/support/call-node';

/** A live socket (a dashboard on a triage node, or a call on the call node), and how it ended. */
interface Live {
  socket: Socket;
  /** Set when the server closed it. */
  closedAt?: number;
}

const sockets: Socket[] = [];

/** Connects, resolving once in (rejecting with the refusal's message); never reconnects by itself. */
async function open(
  url: string,
  token: string,
  options: { path?: string; namespace?: string } = {},
): Promise<Live> {
  const socket = connect(`${url}${options.namespace ?? ''}`, {
    ...(options.path ? { path: options.path } : {}),
    auth: { token },
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
  });
  sockets.push(socket);
  const live: Live = { socket };
  socket.on('disconnect', () => (live.closedAt = Date.now()));
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', (error) => reject(new Error(error.message)));
  });
  return live;
}
const dashboard = (node: TestTriage, token: string) =>
  open(node.url, token, { path: StaffLive.path, namespace: StaffLive.namespace });

/**
 * Stopping or demoting a member of staff closes their live sockets on every node within seconds:
 * two triage nodes (the same signing keys) and a call node verifying triage's keys, all on a Redis
 * of the test's own. With that Redis down, a socket ends when its token does.
 */
describe('stopping or demoting a member of staff closes their dashboards and calls on every node', async () => {
  // taken down last-in first-out: the nodes before the Redis they use (else their closing commands
  // meet a Redis already gone, as unhandled 'Connection is closed' rejections)
  const world = cleanupStack({ after });
  const redis = await startRedis();
  world.after(() => redis.remove());
  const signingKeys = [generateSigningKey()];
  const options = { live: 'redis', redisUrl: redis.url, signingKeys } as const;
  const nodeA = await startTriage(world, options);
  const nodeB = await startTriage(world, options);
  const callNode = await startCallNode({
    jwksUrl: `${nodeA.url}/.well-known/jwks.json`,
    redisUrl: redis.url,
  });
  world.after(async () => {
    for (const socket of sockets) socket.disconnect();
    await callNode.close();
  });
  const probe = new Redis(redis.url);
  try {
    await waitFor('both triage nodes and the call node to subscribe', async () => {
      const [, count] = (await probe.call('PUBSUB', 'NUMSUB', StaffRevocation.channel)) as [string, number];
      return count >= 3;
    });
  } finally {
    probe.disconnect();
  }

  /** A staff access token from node A for this member, with their role now (`ttlSeconds`: 5 minutes). */
  function tokenFor(
    staff: { id: string; name: string },
    role: StaffTokenClaims['role'],
    ttlSeconds = 300,
  ): string {
    const claims: StaffTokenClaims = {
      typ: 'staff',
      sub: staff.id,
      practiceId: nodeA.practiceA.id,
      role,
      name: staff.name,
    };
    return nodeA.app.tokens.sign('staff', claims, ttlSeconds);
  }

  /** A call the member starts through node A, and their socket in it on the call node. */
  async function hostCall(token: string): Promise<{ call: Live; hostToken: string; callId: string }> {
    const consultationId = await seedConsultation(nodeA.db.pool, nodeA.practiceA.id);
    const started = await nodeA.app.inject({
      method: 'POST',
      url: '/calls',
      headers: { authorization: `Bearer ${token}` },
      payload: { consultationId },
    });
    assert.equal(started.statusCode, 201, started.body);
    const { hostToken, callId } = started.json<{ hostToken: string; callId: string }>();
    const call = await open(callNode.url, hostToken);
    return { call, hostToken, callId };
  }

  const change = (staffId: string, payload: object) =>
    nodeA.as(nodeA.practiceA, 'admin').inject({ method: 'PATCH', url: `/staff/${staffId}`, payload });

  it('closes a stopped clinician’s dashboards on both triage nodes and their call within seconds, and refuses their tokens after', async () => {
    const clinician = nodeA.practiceA.staff.clinician;
    const token = tokenFor(clinician, 'clinician');
    const [onA, onB] = [await dashboard(nodeA, token), await dashboard(nodeB, token)];
    const { call, hostToken, callId } = await hostCall(token);
    const colleague = await dashboard(nodeB, tokenFor(nodeA.practiceA.staff.reception, 'reception'));

    const stoppedAt = Date.now();
    const stopped = await change(clinician.id, { active: false });
    assert.equal(stopped.statusCode, 200, stopped.body);
    await waitFor('every socket of theirs closed', () => [onA, onB, call].every((live) => live.closedAt), {
      timeoutMs: 5000,
    });
    for (const live of [onA, onB, call]) assert.ok(live.closedAt! - stoppedAt < 3000, 'within seconds');
    assert.ok(colleague.socket.connected, 'a colleague’s dashboard stays');

    // nor does their access token open anything on either node, a fresh host token included
    for (const node of [nodeA, nodeB]) {
      const refused = await node.app.inject({
        method: 'GET',
        url: '/consultations?status=new',
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(refused.statusCode, 401, refused.body);
      const rejoin = await node.app.inject({
        method: 'POST',
        url: `/calls/${callId}/host-token`,
        headers: { authorization: `Bearer ${token}` },
      });
      assert.equal(rejoin.statusCode, 401, rejoin.body);
    }
    await assert.rejects(
      dashboard(nodeB, token),
      /unauthorized/,
      'their access token no longer opens a dashboard',
    );
    await assert.rejects(open(callNode.url, hostToken), /unauthorized/, 'nor their host token the call');
  });

  it('closes a demoted clinician’s dashboards and call too, and their next token, with the new role, gets back in', async () => {
    const clinician = nodeA.practiceA.staff.clinician;
    await change(clinician.id, { active: true, role: 'clinician' });
    // a token issued in the second of a revocation may predate it: a renewing client waits a second
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const token = tokenFor(clinician, 'clinician');
    const [onA, onB] = [await dashboard(nodeA, token), await dashboard(nodeB, token)];
    const { call } = await hostCall(token);

    const demotedAt = Date.now();
    const demoted = await change(clinician.id, { role: 'reception' });
    assert.equal(demoted.statusCode, 200, demoted.body);
    await waitFor('every socket of theirs closed', () => [onA, onB, call].every((live) => live.closedAt), {
      timeoutMs: 5000,
    });
    for (const live of [onA, onB, call]) assert.ok(live.closedAt! - demotedAt < 3000, 'within seconds');

    await new Promise((resolve) => setTimeout(resolve, 1100));
    const renewed = await dashboard(nodeB, tokenFor(clinician, 'reception'));
    assert.ok(renewed.socket.connected, 'back with the new role');
  });

  it('while Redis is down, still closes the member’s dashboard on the node that stopped them at once, and on the other when its token expires', async () => {
    const receptionist = nodeA.practiceA.staff.reception;
    await change(receptionist.id, { active: true });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const issuedAt = Date.now();
    const token = tokenFor(receptionist, 'reception', 4);
    const [onA, onB] = [await dashboard(nodeA, token), await dashboard(nodeB, token)];
    await redis.down();
    try {
      const stoppedAt = Date.now();
      const stopped = await change(receptionist.id, { active: false });
      assert.equal(stopped.statusCode, 200, stopped.body);
      assert.ok(Date.now() - stoppedAt < 2000, 'the change did not wait for Redis');
      await waitFor('the dashboard on the node that stopped them closed', () => onA.closedAt, {
        timeoutMs: 2000,
      });
      assert.equal(onB.closedAt, undefined, 'the other node has not heard (Redis is down)');
      await waitFor('the other node’s dashboard closed at the token’s expiry', () => onB.closedAt, {
        timeoutMs: 8000,
      });
      const lasted = onB.closedAt! - issuedAt;
      assert.ok(lasted >= 2500 && lasted < 7000, `closed when its token expired (${lasted} ms after issue)`);
    } finally {
      await redis.up();
    }
  });

  it('gives a host token that lasts no longer than the access token that asked for it', async () => {
    const clinician = nodeA.practiceA.staff.clinician;
    await change(clinician.id, { active: true, role: 'clinician' });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    const token = tokenFor(clinician, 'clinician', 20);
    const { hostToken, call, callId } = await hostCall(token);
    const accessExpiry = tokenTimes(token).expiresAt!;
    assert.ok(
      tokenTimes(hostToken).expiresAt! <= accessExpiry,
      'the first host token ends with the access token',
    );
    const fresh = await nodeA.app.inject({
      method: 'POST',
      url: `/calls/${callId}/host-token`,
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(fresh.statusCode, 200, fresh.body);
    const { token: rejoin, expiresIn } = fresh.json<{ token: string; expiresIn: number }>();
    assert.ok(tokenTimes(rejoin).expiresAt! <= accessExpiry, 'and so does a fresh one');
    assert.ok(expiresIn <= 20, `said so (${expiresIn} s)`);
    call.socket.disconnect();
  });
});

describe('a revocation announced while Redis is down', () => {
  it('is sent once Redis is back, even empty, and kept in the recent set a call node reads when it reconnects', async (t) => {
    const cleanup = cleanupStack(t);
    const redis = await startRedis();
    cleanup.after(() => redis.remove());
    const publisher = new Redis(redis.url, failFastRedisOptions);
    const subscriber = new Redis(redis.url, { retryStrategy: failFastRedisOptions.retryStrategy });
    for (const client of [publisher, subscriber]) client.on('error', () => undefined);
    cleanup.after(() => {
      publisher.disconnect();
      subscriber.disconnect();
    });
    const heard: string[] = [];
    const link = redisRevocationLink(publisher, subscriber);
    link.subscribe((message) => heard.push(message));
    await waitFor('connected', () => publisher.status === 'ready');
    await waitFor('subscribed', async () => {
      const [, count] = (await publisher.call('PUBSUB', 'NUMSUB', StaffRevocation.channel)) as [
        string,
        number,
      ];
      return count >= 1;
    });

    await redis.down();
    await waitFor('the publisher to notice', () => publisher.status !== 'ready');
    const message = JSON.stringify({ staffId: 'staff-1', at: Date.now() });
    await assert.rejects(link.publish(message), 'refused at once while Redis is down');
    await redis.up({ empty: true });
    await waitFor('the revocation sent again', () => heard.includes(message), { timeoutMs: 10_000 });
    assert.deepEqual(await publisher.zrange(StaffRevocation.recentKey, 0, -1), [message]);
    assert.ok((await publisher.pttl(StaffRevocation.recentKey)) > 0, 'the set expires');
    assert.deepEqual(heard, [message], 'sent once');
  });
});

describe('a triage node that was cut off from Redis', () => {
  it('applies, once, a revocation another node announced while it was away, read from the recent set when it is back', async (t) => {
    const cleanup = cleanupStack(t);
    const redis = await startRedis();
    cleanup.after(() => redis.remove());
    const clients: Redis[] = [];
    const client = (lazyConnect: boolean) => {
      const made = new Redis(redis.url, { ...failFastRedisOptions, lazyConnect });
      made.on('error', () => undefined);
      clients.push(made);
      return made;
    };
    cleanup.after(() => clients.forEach((made) => made.disconnect()));
    const announcing = redisRevocationLink(client(false), client(false));
    await waitFor('the announcing node connected', () => clients[0]!.status === 'ready');

    // the other node is away (not yet connected) when the revocation is announced
    const [publisher, subscriber] = [client(true), client(true)];
    const heard: string[] = [];
    redisRevocationLink(publisher, subscriber).subscribe((message) => heard.push(message));
    const message = JSON.stringify({ staffId: 'staff-2', at: Date.now() });
    await announcing.publish(message);
    assert.equal(heard.length, 0, 'not heard while away');

    await Promise.all([publisher.connect(), subscriber.connect()]);
    await waitFor('the revocation applied once back', () => heard.includes(message), { timeoutMs: 10_000 });
    await waitFor('subscribed again', async () => {
      const [, count] = (await publisher.call('PUBSUB', 'NUMSUB', StaffRevocation.channel)) as [
        string,
        number,
      ];
      return count >= 1;
    });
    // announced again (say after another outage): heard by the channel, applied no second time
    await announcing.publish(message);
    const later = JSON.stringify({ staffId: 'staff-3', at: Date.now() });
    await announcing.publish(later);
    await waitFor('a later revocation heard by the channel', () => heard.includes(later));
    assert.deepEqual(heard, [message, later]);
  });
});
