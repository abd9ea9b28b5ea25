import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { io as connect, type Socket } from 'socket.io-client';
import { waitFor } from '@gpc/test-support/wait';
import type { Ack, ClientResults, JoinResult, Participant } from '@gpc/contracts';
import { opusRtpParameters } from '../../media/test/support/rtp-parameters';
import { loadSignallingConfig } from '../src/config';
import { startCallNode, type CallNode } from './support/call-node';

const here = path.dirname(fileURLToPath(import.meta.url));

const opusParameters = opusRtpParameters(11111111, 'test');

/** Emits an event and resolves with its ack. */
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

/** The next arrival of a server event on a client socket. */
function nextEvent<T extends unknown[] = unknown[]>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (...args: unknown[]) => resolve(args as T)));
}

function errorCode(result: Ack<unknown>): string | undefined {
  return result.ok ? undefined : result.error.code;
}

describe('signalling: calls over HTTP and socket.io, with real mediasoup workers', () => {
  let node: CallNode;
  const sockets: Socket[] = [];

  before(async () => (node = await startCallNode({ workers: 2 })));
  after(async () => {
    for (const socket of sockets) socket.disconnect();
    await node.close();
  });

  function open(auth: Record<string, unknown>): Socket {
    const socket = connect(node.url, {
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    sockets.push(socket);
    return socket;
  }

  /** Resolves when connected, rejects with the server's refusal code. */
  async function connected(socket: Socket): Promise<Socket> {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (error) => reject(new Error(error.message)));
    });
    return socket;
  }

  const call = (callId: string) => {
    const found = node.app.calls.get(callId, 'practice-a');
    assert.ok(found);
    return found;
  };

  /** A call as triage makes it: the node opens it on its first valid call token. */
  const createCall = () => node.createCall();

  it('reports health from its live workers, and ready while Redis answers too', async () => {
    const response = await fetch(`${node.url}/health`);
    assert.deepEqual(await response.json(), { status: 'ok', mediaWorkers: 2 });
    // the node listens before Redis has answered: ready once it has
    await waitFor('ready', async () => (await fetch(`${node.url}/readyz`)).status === 200, {
      timeoutMs: 5000,
    });
    const ready = await fetch(`${node.url}/readyz`);
    assert.deepEqual(await ready.json(), { status: 'ready', mediaWorkers: 2, redis: 'ok' });
  });

  it('serves no HTTP route to create calls: triage makes them', async () => {
    const response = await fetch(`${node.url}/calls`, {
      method: 'POST',
      headers: { authorization: `Bearer ${node.staffToken()}`, 'content-type': 'application/json' },
      body: JSON.stringify({ consultationId: 'c-1', patientName: 'Pat' }),
    });
    assert.equal(response.status, 404);
  });

  it('refuses connections without a valid token, with an expired link, or for another practice', async () => {
    await assert.rejects(connected(open({})), /unauthorized/);
    await assert.rejects(connected(open({ token: 'not-a-token-at-all' })), /unauthorized/);
    const { callId, consultationId, hostToken } = createCall();
    await connected(open({ token: hostToken() }));
    const expired = node.callToken({ callId, consultationId }, 1);
    await new Promise((resolve) => setTimeout(resolve, 2100));
    await assert.rejects(connected(open({ token: expired })), /unauthorized/);
    await assert.rejects(
      connected(open({ token: hostToken({ practiceId: 'practice-b' }) })),
      /notFound/,
      "another practice's token for the call opens nothing",
    );
  });

  it('keeps a patient in the waiting room until the clinician admits them', async () => {
    const { patientToken, hostToken } = createCall();
    const clinician = await connected(open({ token: hostToken() }));
    const clinicianJoin = await ok(clinician, 'call:join', {});
    assert.equal(clinicianJoin.self.state, 'admitted');
    const clinicianSend = await ok(clinician, 'transport:create', { direction: 'send' });
    const clinicianAudio = await ok(clinician, 'produce', {
      transportId: clinicianSend.transportId,
      kind: 'audio',
      rtpParameters: opusParameters,
    });
    const clinicianOffers: string[] = [];
    clinician.on('producer:new', ({ producerId }: { producerId: string }) =>
      clinicianOffers.push(producerId),
    );

    const patient = await connected(open({ token: patientToken }));
    const seesWaiting = nextEvent<[Participant[]]>(clinician, 'participants:updated');
    const patientJoin: JoinResult = await ok(patient, 'call:join', {});
    assert.equal(patientJoin.self.state, 'waiting');
    const [list] = await seesWaiting;
    assert.ok(list.some((p) => p.role === 'patient' && p.state === 'waiting' && p.name === 'Pat Example'));

    // before admission the patient may make its transports and producers (so admission only adds
    // consumers), but nobody is offered them, it can consume nothing, and it can neither admit nor chat
    const transport = await ok(patient, 'transport:create', { direction: 'send' });
    assert.ok(transport.iceCandidates.length > 0);
    assert.ok(
      transport.iceCandidates.every(
        (candidate) => candidate.port === node.rtcPort || candidate.port === node.rtcPort + 1,
      ),
    );
    const patientOffers: string[] = [];
    patient.on('producer:new', ({ producerId }: { producerId: string }) => patientOffers.push(producerId));
    const recv = await ok(patient, 'transport:create', { direction: 'recv' });
    const patientAudio = await ok(patient, 'produce', {
      transportId: transport.transportId,
      kind: 'audio',
      rtpParameters: opusRtpParameters(22222222, 'waiting'),
    });
    const consumeEarly = await request(patient, 'consume', {
      transportId: recv.transportId,
      producerId: clinicianAudio.producerId,
      rtpCapabilities: patientJoin.routerRtpCapabilities,
    });
    assert.equal(errorCode(consumeEarly), 'forbidden');
    assert.equal(
      errorCode(await request(patient, 'call:admit', { participantId: patientJoin.self.participantId })),
      'forbidden',
    );
    assert.equal(errorCode(await request(patient, 'chat:send', { text: 'hello?' })), 'forbidden');
    // a round trip on each socket after the produce: an offer made then would have arrived before its ack
    await ok(clinician, 'transport:create', { direction: 'recv' });
    await ok(patient, 'transport:create', { direction: 'recv' });
    assert.deepEqual(clinicianOffers, [], 'the clinician is not offered a waiting patient’s media');
    assert.deepEqual(patientOffers, [], 'a waiting patient is not offered the call’s media');

    const admitted = nextEvent(patient, 'admitted');
    const clinicianOffered = nextEvent<[{ producerId: string }]>(clinician, 'producer:new');
    const patientOffered = nextEvent<[{ producerId: string }]>(patient, 'producer:new');
    await ok(clinician, 'call:admit', { participantId: patientJoin.self.participantId });
    await admitted;
    // at admission each side is offered the other's media, with no new transport or producer
    assert.equal((await clinicianOffered)[0].producerId, patientAudio.producerId);
    assert.equal((await patientOffered)[0].producerId, clinicianAudio.producerId);
  });

  it('validates every payload and answers unknown ids with an error ack, never a crash', async () => {
    const { hostToken } = createCall();
    const clinician = await connected(open({ token: hostToken() }));
    await ok(clinician, 'call:join', {});
    assert.equal(
      errorCode(await request(clinician, 'transport:create', { direction: 'sideways' })),
      'badRequest',
    );
    assert.equal(
      errorCode(await request(clinician, 'transport:create', { direction: 'send', extra: 1 })),
      'badRequest',
    );
    assert.equal(errorCode(await request(clinician, 'transport:create', 'send')), 'badRequest');
    assert.equal(errorCode(await request(clinician, 'chat:send', { text: 'x'.repeat(2001) })), 'badRequest');
    assert.equal(
      errorCode(await request(clinician, 'transport:connect', { transportId: 'nope', dtlsParameters: {} })),
      'notFound',
    );
    assert.equal(errorCode(await request(clinician, 'consumer:resume', { consumerId: 'nope' })), 'notFound');
    assert.equal(errorCode(await request(clinician, 'call:admit', { participantId: 'nobody' })), 'notFound');
    const send = await ok(clinician, 'transport:create', { direction: 'send' });
    const garbage = await request(clinician, 'produce', {
      transportId: send.transportId,
      kind: 'audio',
      rtpParameters: { codecs: 'x' },
    });
    assert.equal(errorCode(garbage), 'badRequest');
    clinician.emit('call:leave', {}); // no ack: ignored
    const still = await request(clinician, 'transport:create', { direction: 'recv' });
    assert.ok(still.ok, 'the socket still works after a bad event');
  });

  it('forwards media only within a call: consumers start paused, other calls cannot consume', async () => {
    const first = createCall();
    const clinician = await connected(open({ token: first.hostToken() }));
    await ok(clinician, 'call:join', {});
    const send = await ok(clinician, 'transport:create', { direction: 'send' });
    const { producerId } = await ok(clinician, 'produce', {
      transportId: send.transportId,
      kind: 'audio',
      rtpParameters: opusParameters,
    });

    const patient = await connected(open({ token: first.patientToken }));
    const join = await ok(patient, 'call:join', {});
    await ok(clinician, 'call:admit', { participantId: join.self.participantId });
    const announced = nextEvent<[{ producerId: string; kind: string }]>(patient, 'producer:new');
    const recv = await ok(patient, 'transport:create', { direction: 'recv' });
    const [offer] = await announced;
    assert.equal(offer.producerId, producerId);
    const consumed = await ok(patient, 'consume', {
      transportId: recv.transportId,
      producerId,
      rtpCapabilities: join.routerRtpCapabilities,
    });
    assert.equal(consumed.kind, 'audio');
    const room = node.app.calls.get(first.callId, 'practice-a')?.room;
    assert.equal(room?.peer(join.self.participantId)?.consumer(consumed.consumerId).paused, true);
    await ok(patient, 'consumer:resume', { consumerId: consumed.consumerId });
    assert.equal(room?.peer(join.self.participantId)?.consumer(consumed.consumerId).paused, false);

    const second = createCall();
    const otherClinician = await connected(open({ token: second.hostToken() }));
    const otherJoin = await ok(otherClinician, 'call:join', {});
    const otherRecv = await ok(otherClinician, 'transport:create', { direction: 'recv' });
    const stolen = await request(otherClinician, 'consume', {
      transportId: otherRecv.transportId,
      producerId,
      rtpCapabilities: otherJoin.routerRtpCapabilities,
    });
    assert.equal(errorCode(stolen), 'notFound');
  });

  it('removes a participant for good and keeps an admitted one admitted across a reconnect', async () => {
    const { patientToken, hostToken } = createCall();
    const clinician = await connected(open({ token: hostToken() }));
    await ok(clinician, 'call:join', {});
    const patient = await connected(open({ token: patientToken }));
    const join = await ok(patient, 'call:join', {});
    await ok(clinician, 'call:admit', { participantId: join.self.participantId });

    patient.disconnect();
    // the page reconnects with the holder key its first join gave it
    const again = await connected(open({ token: patientToken, holderKey: join.holderKey }));
    const rejoin = await ok(again, 'call:join', {});
    assert.equal(
      rejoin.self.state,
      'admitted',
      'a dropped connection does not send the patient back to the waiting room',
    );

    const removed = nextEvent(again, 'removed');
    await ok(clinician, 'call:remove', { participantId: join.self.participantId });
    await removed;
    await assert.rejects(connected(open({ token: patientToken, holderKey: join.holderKey })), /forbidden/);
    await assert.rejects(connected(open({ token: patientToken })), /forbidden/);
  });

  it('tells everyone in a call to rejoin when its worker dies, and the rejoin works', async () => {
    const { callId, hostToken } = createCall();
    const clinician = await connected(open({ token: hostToken() }));
    await ok(clinician, 'call:join', {});
    const room = node.app.calls.get(callId, 'practice-a')?.room;
    assert.ok(room);
    const rejoin = nextEvent(clinician, 'call:rejoin');
    const replaced = once(node.media, 'workerReplaced');
    process.kill(room.worker.worker.pid, 'SIGKILL');
    await Promise.all([rejoin, replaced]);
    const join = await ok(clinician, 'call:join', {});
    assert.ok(join.routerRtpCapabilities);
    const transport = await ok(clinician, 'transport:create', { direction: 'send' });
    assert.ok(transport.transportId);
    assert.equal(node.media.workers.length, 2);
  });

  it('notices a participant that goes silent within 10 seconds', async () => {
    const { callId, patientToken, hostToken } = createCall();
    const clinician = await connected(open({ token: hostToken() }));
    await ok(clinician, 'call:join', {});
    const patient = spawn(
      process.execPath,
      ['--import', 'tsx', path.join(here, 'support/frozen-client.ts'), node.url, patientToken],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    try {
      await new Promise<void>((resolve) => patient.stdout.once('data', () => resolve()));
      const seen = call(callId).participants;
      const patientIn = () => [...seen.values()].some((p) => p.role === 'patient' && p.socketId);
      assert.ok(patientIn(), 'the patient is in');
      patient.kill('SIGSTOP');
      const frozenAt = Date.now();
      await waitFor('signalling to notice the frozen patient', () => !patientIn(), {
        timeoutMs: 15_000,
        intervalMs: 200,
      });
      const noticedAfter = Date.now() - frozenAt;
      assert.ok(noticedAfter < 10_000, `noticed after ${noticedAfter} ms`);
    } finally {
      patient.kill('SIGKILL');
    }
  });

  it('fails at boot naming a missing or unknown key', () => {
    assert.throws(
      () => loadSignallingConfig({ SIGNALLING_REDIS_URL: 'redis://x' }),
      /SIGNALLING_JWKS_URL: required/,
    );
    assert.throws(
      () =>
        loadSignallingConfig({
          SIGNALLING_REDIS_URL: 'redis://x',
          SIGNALLING_JWKS_URL: 'http://127.0.0.1:3001/.well-known/jwks.json',
          SIGNALLING_WORKERS: '2',
        }),
      /SIGNALLING_WORKERS: unknown key/,
    );
  });
});
