import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { Socket } from 'socket.io-client';
import type { Participant } from '@gpc/contracts';
import { waitFor } from '@gpc/test-support';
import { startCallNode, type CallNode } from './support/call-node';
import { CallSockets, errorCode, nextEvent, ok, request } from './support/call-sockets';

const graceSeconds = 2;

/** Drops the socket's connection under it, as a lost network does (the server sees 'transport close'). */
function loseConnection(socket: Socket): Promise<unknown> {
  const gone = nextEvent(socket, 'disconnect');
  socket.io.engine.close();
  return gone;
}

describe('a participant whose connection goes silent keeps their seat for the grace period', () => {
  let node: CallNode;
  const sockets = new CallSockets();

  before(async () => (node = await startCallNode({ reconnectGraceSeconds: graceSeconds })));
  after(async () => {
    sockets.closeAll();
    await node.close();
  });

  /** A call with its clinician in and its patient admitted, the patient producing audio. */
  async function callWithAdmittedPatient() {
    const call = node.createCall();
    const clinician = await sockets.connect(node, { token: call.hostToken() });
    const clinicianJoin = await ok(clinician, 'call:join', {});
    const patient = await sockets.connect(node, { token: call.patientToken });
    const join = await ok(patient, 'call:join', {});
    await ok(clinician, 'call:admit', { participantId: join.self.participantId });
    /** What the clinician is told next about the patient. */
    const nextSeen = async () => {
      const [list] = await nextEvent<[Participant[]]>(clinician, 'participants:updated');
      return list.find((p) => p.participantId === join.self.participantId);
    };
    return { call, clinician, clinicianJoin, patient, join, nextSeen };
  }

  it('shows a patient whose connection dropped as reconnecting, keeps their media, and takes them back admitted', async () => {
    const { call, clinician, patient, join, nextSeen } = await callWithAdmittedPatient();
    const session = node.app.calls.get(call.callId, 'practice-a')!;
    const peerBefore = session.room?.peer(join.self.participantId);
    assert.ok(peerBefore);

    const seen = nextSeen();
    await loseConnection(patient);
    const reconnecting = await seen;
    assert.equal(reconnecting?.connection, 'reconnecting', 'still listed, as reconnecting');
    assert.equal(reconnecting?.state, 'admitted');
    assert.equal(peerBefore.closed, false, 'their media is kept while they may come back');

    const back = await sockets.connect(node, { token: call.patientToken, holderKey: join.holderKey });
    const seenBack = nextSeen();
    const rejoin = await ok(back, 'call:join', {});
    assert.equal(rejoin.self.state, 'admitted', 'no new admission');
    assert.equal(rejoin.self.connection, undefined);
    assert.equal((await seenBack)?.connection, undefined, 'the clinician sees them back');
    assert.equal(peerBefore.closed, true, 'the returning page starts its media afresh');
    await ok(back, 'transport:create', { direction: 'send' });
    await ok(clinician, 'chat:send', { text: 'still here' });
  });

  it('takes a silent participant out once the grace period runs out, admission kept for a later return', async () => {
    const { call, patient, join, nextSeen } = await callWithAdmittedPatient();
    const session = node.app.calls.get(call.callId, 'practice-a')!;
    const peer = session.room?.peer(join.self.participantId);
    const seen = nextSeen();
    await loseConnection(patient);
    assert.equal((await seen)?.connection, 'reconnecting');
    const droppedAt = Date.now();
    assert.equal(await nextSeen(), undefined, 'out of the list after the grace period');
    assert.ok(Date.now() - droppedAt >= graceSeconds * 1000 - 200, 'not before the grace period');
    assert.equal(peer?.closed, true, 'their media is freed');

    const later = await sockets.connect(node, { token: call.patientToken, holderKey: join.holderKey });
    assert.equal((await ok(later, 'call:join', {})).self.state, 'admitted');
  });

  it('frees a participant who closed their connection on purpose at once, without reconnecting', async () => {
    const { call, patient, join, nextSeen } = await callWithAdmittedPatient();
    const peer = node.app.calls.get(call.callId, 'practice-a')!.room?.peer(join.self.participantId);
    const seen = nextSeen();
    patient.disconnect();
    assert.equal(await seen, undefined);
    await waitFor('the patient’s media to be freed', () => peer?.closed === true);
  });

  it('lets only the clinician share a screen, as video, one at a time; the others are told its source and when it stops', async () => {
    const { clinician, clinicianJoin, patient } = await callWithAdmittedPatient();
    const screen = { source: 'screen' };
    const send = await ok(patient, 'transport:create', { direction: 'send' });
    const fromPatient = await request(patient, 'produce', {
      transportId: send.transportId,
      kind: 'video',
      rtpParameters: {},
      appData: screen,
    });
    assert.equal(errorCode(fromPatient), 'forbidden');
    const clinicianSend = await ok(clinician, 'transport:create', { direction: 'send' });
    const asAudio = await request(clinician, 'produce', {
      transportId: clinicianSend.transportId,
      kind: 'audio',
      rtpParameters: {},
      appData: screen,
    });
    assert.equal(errorCode(asAudio), 'badRequest');
    const unknown = await request(clinician, 'produce', {
      transportId: clinicianSend.transportId,
      kind: 'video',
      rtpParameters: {},
      appData: { source: 'window' },
    });
    assert.equal(errorCode(unknown), 'badRequest', 'the contract names the sources');

    const offered = nextEvent<[{ producerId: string; source: string }]>(patient, 'producer:new');
    const { producerId } = await ok(clinician, 'produce', {
      transportId: clinicianSend.transportId,
      kind: 'video',
      rtpParameters: vp8RtpParameters(11110001),
      appData: screen,
    });
    // the patient has no receiving transport yet: offered when it makes one
    await ok(patient, 'transport:create', { direction: 'recv' });
    assert.deepEqual((await offered)[0], {
      producerId,
      participantId: clinicianJoin.self.participantId,
      kind: 'video',
      source: 'screen',
    });
    const again = await request(clinician, 'produce', {
      transportId: clinicianSend.transportId,
      kind: 'video',
      rtpParameters: vp8RtpParameters(11110002),
      appData: screen,
    });
    assert.equal(errorCode(again), 'conflict', 'one shared screen at a time');

    const stopped = nextEvent<[{ producerId: string }]>(patient, 'producer:closed');
    assert.equal(errorCode(await request(patient, 'producer:close', { producerId })), 'notFound');
    await ok(clinician, 'producer:close', { producerId });
    assert.deepEqual((await stopped)[0], { producerId });
  });
});

/** A minimal VP8 stream's parameters, as a browser would send them (one SSRC). */
function vp8RtpParameters(ssrc: number) {
  return {
    mid: `screen${ssrc}`,
    codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000, rtcpFeedback: [], parameters: {} }],
    headerExtensions: [],
    encodings: [{ ssrc }],
    rtcp: { cname: 'screen', reducedSize: true },
  };
}
