import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { Redis } from 'ioredis';
import type { Socket } from 'socket.io-client';
import type { JoinResult, Participant } from '@gpc/contracts';
import { startRedis, waitFor, type RedisServer } from '@gpc/test-support';
import { loadSignallingConfig } from '../src/config';
import { startCallNode, type CallNode } from './support/call-node';
import { CallSockets, errorCode, nextEvent, ok, request, Refused } from './support/call-sockets';

/** The refusal a handshake got, or a failure if it was let in. */
async function refusal(connecting: Promise<Socket>): Promise<Refused> {
  try {
    await connecting;
  } catch (error) {
    assert.ok(error instanceof Refused, String(error));
    return error;
  }
  assert.fail('the handshake was let in');
}

/** Still connected and admitted: it may send chat and make a media transport. */
async function stillInCall(socket: Socket, label: string): Promise<void> {
  assert.ok(socket.connected, `${label} is still connected`);
  await ok(socket, 'chat:send', { text: `${label} here` });
  await ok(socket, 'transport:create', { direction: 'send' });
}

describe('one holder per call link: a replayed link waits for the clinician, rejoins resume, links die with the call', () => {
  let node: CallNode;
  let other: CallNode | undefined;
  const sockets = new CallSockets();

  before(async () => (node = await startCallNode()));
  /** Another call node on the same Redis, trusting the same keys (a new process: it has seen no call). */
  const anotherNode = async () => (other ??= await startCallNode({ signingKeys: node.tokens }));
  after(async () => {
    sockets.closeAll();
    await other?.close();
    await node.close();
  });

  /** A call with its clinician in and its patient admitted through the link. */
  async function callWithAdmittedPatient(on = node) {
    const call = on.createCall();
    const { callId, patientToken } = call;
    const clinician = await sockets.connect(on, { token: call.hostToken() });
    await ok(clinician, 'call:join', {});
    const patient = await sockets.connect(on, { token: patientToken });
    const join = await ok(patient, 'call:join', {});
    assert.equal(join.self.state, 'waiting');
    const admitted = nextEvent(patient, 'admitted');
    await ok(clinician, 'call:admit', { participantId: join.self.participantId });
    await admitted;
    return { callId, patientToken, hostToken: () => call.hostToken(), clinician, patient, join };
  }

  it('keeps the admitted patient in the call when someone else opens their link: the second device waits and the clinician is told', async () => {
    const { patientToken, clinician, patient, join } = await callWithAdmittedPatient();
    const patientDropped = nextEvent(patient, 'disconnect');
    const notice = nextEvent<[{ participantId: string; name: string }]>(clinician, 'link:opened-elsewhere');
    const listed = nextEvent<[Participant[]]>(clinician, 'participants:updated');

    // the attack: the same link, opened on another device (no holder key)
    const attacker = await sockets.connect(node, { token: patientToken });
    const attackerJoin = await ok(attacker, 'call:join', {});

    assert.equal(attackerJoin.self.state, 'waiting', 'the second opener waits');
    assert.notEqual(attackerJoin.self.participantId, join.self.participantId, 'it is not the patient');
    const [seen] = await notice;
    assert.equal(seen.participantId, attackerJoin.self.participantId);
    assert.equal(seen.name, 'Pat Example');
    const dropped = await Promise.race([
      patientDropped.then(() => true),
      new Promise((resolve) => setTimeout(() => resolve(false), 500)),
    ]);
    assert.equal(dropped, false, 'the patient was not dropped');
    await stillInCall(patient, 'the patient');
    // the waiting device gets nothing of the call
    assert.equal(errorCode(await request(attacker, 'transport:create', { direction: 'recv' })), 'forbidden');
    assert.equal(errorCode(await request(attacker, 'chat:send', { text: 'hi' })), 'forbidden');
    const [list] = await listed;
    const shown = list.find((p) => p.participantId === attackerJoin.self.participantId);
    assert.equal(shown?.anotherDevice, true, 'the clinician sees it as the link opened on another device');
    assert.equal(shown?.state, 'waiting');
  });

  it('on Admit, the second device becomes the holder and the first is told and disconnected', async () => {
    const { patientToken, clinician, patient, join } = await callWithAdmittedPatient();
    const second = await sockets.connect(node, { token: patientToken });
    const secondJoin = await ok(second, 'call:join', {});
    assert.ok(secondJoin.holderKey, 'the second device has a key of its own, not yet the holder’s');

    const told = nextEvent<[{ reason: string }]>(patient, 'removed');
    const dropped = nextEvent(patient, 'disconnect');
    const admitted = nextEvent(second, 'admitted');
    await ok(clinician, 'call:admit', { participantId: secondJoin.self.participantId });
    assert.deepEqual((await told)[0], { reason: 'replaced' });
    await Promise.all([dropped, admitted]);
    await stillInCall(second, 'the second device');

    // its key is the holder's now; the first device's key no longer is
    second.disconnect();
    const back = await sockets.connect(node, { token: patientToken, holderKey: secondJoin.holderKey });
    assert.equal((await ok(back, 'call:join', {})).self.state, 'admitted');
    const firstAgain = await sockets.connect(node, { token: patientToken, holderKey: join.holderKey });
    assert.equal((await ok(firstAgain, 'call:join', {})).self.state, 'waiting');
  });

  it('on Remove, the second device is told it cannot join and closed, and the patient stays', async () => {
    const { patientToken, clinician, patient, join } = await callWithAdmittedPatient();
    const second = await sockets.connect(node, { token: patientToken });
    const secondJoin = await ok(second, 'call:join', {});
    const told = nextEvent<[{ reason: string }]>(second, 'removed');
    const closed = nextEvent(second, 'disconnect');
    await ok(clinician, 'call:remove', { participantId: secondJoin.self.participantId });
    assert.deepEqual((await told)[0], { reason: 'refused' });
    await closed;
    await stillInCall(patient, 'the patient');

    // the link still works for its holder
    patient.disconnect();
    const back = await sockets.connect(node, { token: patientToken, holderKey: join.holderKey });
    assert.equal((await ok(back, 'call:join', {})).self.state, 'admitted');
  });

  it('resumes a rejoin that presents the holder key without a new admission, on a new socket and on a new signalling instance on the same Redis', async () => {
    const { patientToken, hostToken, patient, join } = await callWithAdmittedPatient();
    assert.ok(join.holderKey);
    patient.disconnect();
    const again = await sockets.connect(node, { token: patientToken, holderKey: join.holderKey });
    assert.equal((await ok(again, 'call:join', {})).self.state, 'admitted');
    again.disconnect();

    // the call moves to a new call node (a process that never saw it) on the same Redis
    const moved = await anotherNode();
    const clinician = await sockets.connect(moved, { token: hostToken() });
    await ok(clinician, 'call:join', {});
    const back = await sockets.connect(moved, { token: patientToken, holderKey: join.holderKey });
    const backJoin: JoinResult = await ok(back, 'call:join', {});
    assert.equal(backJoin.self.state, 'admitted', 'admitted on the new node without the clinician');
    await stillInCall(back, 'the patient on the new node');

    // there too, the link without its key is a second opener
    const notice = nextEvent(clinician, 'link:opened-elsewhere');
    const stranger = await sockets.connect(moved, { token: patientToken });
    assert.equal((await ok(stranger, 'call:join', {})).self.state, 'waiting');
    await notice;
    // a key that is not the holder's is no better than none
    const guessed = await sockets.connect(moved, { token: patientToken, holderKey: 'x'.repeat(43) });
    assert.equal((await ok(guessed, 'call:join', {})).self.state, 'waiting');
  });

  it('refuses any token for a call that has ended, with a clear message, on this node and on another', async () => {
    const { patientToken, hostToken, clinician, patient, join } = await callWithAdmittedPatient();
    const told = nextEvent<[{ reason: string }]>(patient, 'removed');
    await ok(clinician, 'call:end', {});
    assert.deepEqual((await told)[0], { reason: 'ended' });

    for (const [label, on] of [
      ['this node', node],
      ['another node', await anotherNode()],
    ] as const) {
      const withKey = await refusal(sockets.connect(on, { token: patientToken, holderKey: join.holderKey }));
      assert.equal(withKey.code, 'notFound', label);
      assert.match(withKey.data?.message ?? '', /call has ended/, label);
      const staff = await refusal(sockets.connect(on, { token: hostToken() }));
      assert.match(staff.data?.message ?? '', /call has ended/, label);
    }
    // only the clinician may end a call
    const live = await callWithAdmittedPatient();
    assert.equal(errorCode(await request(live.patient, 'call:end', {})), 'forbidden');
  });
});

describe('calls end after the configured idle time with nobody connected', () => {
  let node: CallNode;
  const sockets = new CallSockets();

  before(async () => (node = await startCallNode({ callIdleSeconds: 2 })));
  after(async () => {
    sockets.closeAll();
    await node.close();
  });

  it('ends a call nobody has been connected to for the idle time, and refuses its link after', async () => {
    const call = node.createCall();
    const { callId, patientToken } = call;
    const clinician = await sockets.connect(node, { token: call.hostToken() });
    await ok(clinician, 'call:join', {});
    const patient = await sockets.connect(node, { token: patientToken });
    const { holderKey } = await ok(patient, 'call:join', {});
    // someone connected: the call lives on past the idle time
    patient.disconnect();
    await new Promise((resolve) => setTimeout(resolve, 3000));
    const stays = await sockets.connect(node, { token: patientToken, holderKey });
    assert.equal((await ok(stays, 'call:join', {})).self.state, 'waiting');

    stays.disconnect();
    clinician.disconnect();
    const leftAt = Date.now();
    await waitFor('the idle call to end', () => !node.app.calls.get(callId, 'practice-a'), {
      timeoutMs: 10_000,
      intervalMs: 100,
    });
    assert.ok(Date.now() - leftAt >= 1900, 'not before the idle time');
    const refused = await refusal(sockets.connect(node, { token: patientToken, holderKey }));
    assert.match(refused.data?.message ?? '', /call has ended/);
  });
});

describe('a call ended on one node closes on the others', () => {
  let node: CallNode;
  let other: CallNode;
  const sockets = new CallSockets();

  before(async () => {
    node = await startCallNode({ callIdleSeconds: 3 });
    other = await startCallNode({ callIdleSeconds: 3, signingKeys: node.tokens });
  });
  after(async () => {
    sockets.closeAll();
    await other.close();
    await node.close();
  });

  it('tells a participant connected to another node that the call ended, and closes their socket', async () => {
    const call = node.createCall();
    const clinician = await sockets.connect(node, { token: call.hostToken() });
    await ok(clinician, 'call:join', {});
    const patient = await sockets.connect(other, { token: call.patientToken });
    await ok(patient, 'call:join', {});
    const told = nextEvent<[{ reason: string }]>(patient, 'removed');
    const closed = nextEvent(patient, 'disconnect');
    await ok(clinician, 'call:end', {});
    assert.deepEqual((await told)[0], { reason: 'ended' });
    await closed;
    await waitFor('the other node to forget the call', () => !other.app.calls.get(call.callId, 'practice-a'));
  });
});

describe('a call whose record Redis lost', () => {
  let node: CallNode;
  const sockets = new CallSockets();

  before(async () => (node = await startCallNode({ callIdleSeconds: 3 })));
  after(async () => {
    sockets.closeAll();
    await node.close();
  });

  it('goes on for the people in it, and is written to Redis again', async () => {
    const call = node.createCall();
    const clinician = await sockets.connect(node, { token: call.hostToken() });
    await ok(clinician, 'call:join', {});
    const state = new Redis(process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379');
    try {
      await state.del(`gpc:call:${call.callId}`, `gpc:call:${call.callId}:alive`);
      await waitFor(
        'the call written again',
        async () => (await state.hget(`gpc:call:${call.callId}`, 'state')) === 'live',
      );
    } finally {
      state.disconnect();
    }
    assert.ok(clinician.connected);
    await ok(clinician, 'chat:send', { text: 'still here' });
  });
});

describe('the idle time setting', () => {
  it('reads SIGNALLING_CALL_IDLE_MINUTES, 30 unless set, and refuses a time that is not positive', () => {
    const base = { SIGNALLING_REDIS_URL: 'redis://x', SIGNALLING_JWKS_URL: 'http://triage/jwks.json' };
    assert.equal(loadSignallingConfig(base).callIdleMinutes, 30);
    assert.equal(loadSignallingConfig({ ...base, SIGNALLING_CALL_IDLE_MINUTES: '0.5' }).callIdleMinutes, 0.5);
    assert.throws(
      () => loadSignallingConfig({ ...base, SIGNALLING_CALL_IDLE_MINUTES: '0' }),
      /SIGNALLING_CALL_IDLE_MINUTES/,
    );
  });
});

describe('call links while Redis is down', () => {
  let redis: RedisServer;
  let node: CallNode;
  const sockets = new CallSockets();

  before(async () => {
    redis = await startRedis();
    node = await startCallNode({ redisUrl: redis.url });
  });
  after(async () => {
    sockets.closeAll();
    await node.close();
    await redis.remove();
  });

  it('keeps the call going for those in it, and refuses new joins and rejoins with "try again", never letting a second opener in', async () => {
    const call = node.createCall();
    const { callId, patientToken } = call;
    const clinician = await sockets.connect(node, { token: call.hostToken() });
    await ok(clinician, 'call:join', {});
    const patient = await sockets.connect(node, { token: patientToken });
    const join = await ok(patient, 'call:join', {});
    await ok(clinician, 'call:admit', { participantId: join.self.participantId });

    await redis.down();
    await stillInCall(patient, 'the patient');
    for (const auth of [{ token: patientToken }, { token: patientToken, holderKey: join.holderKey }]) {
      const refused = await refusal(sockets.connect(node, auth));
      assert.equal(refused.code, 'unavailable');
      assert.match(refused.data?.message ?? '', /try again/i);
    }
    await redis.up();
    await waitFor('Redis to answer the call node', async () => {
      try {
        const probe = await sockets.connect(node, { token: patientToken });
        const probeJoin = await ok(probe, 'call:join', {});
        assert.equal(probeJoin.self.state, 'waiting', 'a second opener after the outage still waits');
        return true;
      } catch (error) {
        if (error instanceof Refused && error.code === 'unavailable') return false;
        throw error;
      }
    });
    await stillInCall(patient, 'the patient after the outage');
    const state = new Redis(redis.url);
    try {
      assert.ok(
        (await state.keys('*')).some((key) => key.includes(callId)),
        'the call is kept in Redis',
      );
    } finally {
      state.disconnect();
    }
  });

  it('does not hand the admitted patient’s seat to another device when Redis comes back without the link’s holder: the node still knows it', async () => {
    const call = node.createCall();
    const { patientToken } = call;
    const clinician = await sockets.connect(node, { token: call.hostToken() });
    await ok(clinician, 'call:join', {});
    const patient = await sockets.connect(node, { token: patientToken });
    const join = await ok(patient, 'call:join', {});
    await ok(clinician, 'call:admit', { participantId: join.self.participantId });

    // a failover without its data: every holder, admission and call record is gone from Redis
    await redis.down();
    await redis.up({ empty: true });
    let attacker: Socket | undefined;
    await waitFor('Redis to answer the call node', async () => {
      try {
        attacker = await sockets.connect(node, { token: patientToken });
        return true;
      } catch (error) {
        if (error instanceof Refused && error.code === 'unavailable') return false;
        throw error;
      }
    });
    const attackerJoin = await ok(attacker!, 'call:join', {});
    assert.notEqual(attackerJoin.self.participantId, join.self.participantId, 'not the patient’s seat');
    assert.equal(attackerJoin.self.state, 'waiting', 'another device waits for the clinician');
    assert.equal(errorCode(await request(attacker!, 'chat:send', { text: 'hi' })), 'forbidden');
    await stillInCall(patient, 'the patient');

    // the patient's own device, back with its key, resumes admitted; Redis has its holder again
    patient.disconnect();
    const back = await sockets.connect(node, { token: patientToken, holderKey: join.holderKey });
    const backJoin = await ok(back, 'call:join', {});
    assert.equal(backJoin.self.participantId, join.self.participantId);
    assert.equal(backJoin.self.state, 'admitted');
    await stillInCall(back, 'the patient back');
  });
});
