// Hostile socket payloads against a real call node (real mediasoup worker, real Redis): every client
// event of the contract, enumerated from ClientPayloads so a new event is fuzzed without being listed,
// gets property-based payloads (fast-check, fixed seed) in every argument shape a client can send.
// Issue 16: no crash, and every bad payload answered with a coded error.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import fc from 'fast-check';
import type { Socket } from 'socket.io-client';
import { ClientPayloads, type ClientEventName, type JoinResult } from '@gpc/contracts';
import {
  argumentShapes,
  argumentsFor,
  asReceived,
  assertCodedRefusal,
  deepPacket,
  emitAsking,
  encodedSize,
  fuzzSeed,
  hostileString,
  hostileValue,
  malformedPackets,
  nearSchema,
  payloadCheck,
  watchProcessFaults,
  withAck,
} from '@gpc/test-support/socket-fuzz';
import { waitFor } from '@gpc/test-support/wait';
import { opusRtpParameters } from '../../media/test/support/rtp-parameters';
import { startCallNode, type CallNode } from './support/call-node';
import { CallSockets, ok, Refused } from './support/call-sockets';

const clientEvents = Object.keys(ClientPayloads) as ClientEventName[];

/**
 * Events whose success changes the call under the fuzzer (a rejoin, a leave, an end, a removal):
 * the next run starts on a fresh call. Only a speed-up: an event missing here leaves later runs
 * testing refusals.
 */
const changesTheCall = new Set<string>(['call:join', 'call:leave', 'call:end', 'call:remove']);

/** A call in full flow: the clinician sends audio, the admitted patient receives it, a guest waits. */
interface World {
  clinician: Socket;
  patient: Socket;
  guest: Socket;
  /** Every id in the call worth trying in a string field. */
  ids: string[];
  join: JoinResult;
  stale: boolean;
}

describe('signalling: hostile socket payloads are answered with coded errors and crash nothing', () => {
  let node: CallNode;
  const sockets = new CallSockets();
  const faults = watchProcessFaults();
  let world: World | undefined;
  let ssrc = 22220000;

  before(async () => (node = await startCallNode({ workers: 1 })));
  after(async () => {
    faults.stop();
    sockets.closeAll();
    await node.close();
  });

  async function freshWorld(): Promise<World> {
    for (const socket of world ? [world.clinician, world.patient, world.guest] : []) socket.disconnect();
    const call = node.createCall();
    const clinician = await sockets.connect(node, { token: call.hostToken() });
    const join = await ok(clinician, 'call:join', {});
    const send = await ok(clinician, 'transport:create', { direction: 'send' });
    const clinicianRecv = await ok(clinician, 'transport:create', { direction: 'recv' });
    const { producerId } = await ok(clinician, 'produce', {
      transportId: send.transportId,
      kind: 'audio',
      rtpParameters: opusRtpParameters(ssrc++, 'fuzz'),
    });
    const patient = await sockets.connect(node, { token: call.patientToken });
    const patientJoin = await ok(patient, 'call:join', {});
    await ok(clinician, 'call:admit', { participantId: patientJoin.self.participantId });
    const recv = await ok(patient, 'transport:create', { direction: 'recv' });
    const { consumerId } = await ok(patient, 'consume', {
      transportId: recv.transportId,
      producerId,
      rtpCapabilities: join.routerRtpCapabilities,
    });
    const guest = await sockets.connect(node, { token: call.guestToken() });
    const guestJoin = await ok(guest, 'call:join', {});
    const ids = [
      join.self.participantId,
      patientJoin.self.participantId,
      guestJoin.self.participantId,
      send.transportId,
      clinicianRecv.transportId,
      recv.transportId,
      producerId,
      consumerId,
    ];
    return { clinician, patient, guest, ids, join, stale: false };
  }

  /** The world of the next run: the last one, unless it changed or one of its sockets closed. */
  async function currentWorld(): Promise<World> {
    const usable =
      world && !world.stale && [world.clinician, world.patient, world.guest].every((s) => s.connected);
    if (!usable) world = await freshWorld();
    return world!;
  }

  const fuzzOptions = {
    realStrings: () => world?.ids ?? [],
    samples: {
      rtpParameters: opusRtpParameters(33330000, 'fuzz'),
      rtpCapabilities: undefined as unknown,
      dtlsParameters: {
        role: 'client',
        fingerprints: [{ algorithm: 'sha-256', value: Array(32).fill('AB').join(':') }],
      },
    },
  };

  /** The node still serves: health answers, and a new call takes a well-formed request. */
  async function assertStillServes(): Promise<void> {
    const health = await fetch(`${node.url}/health`);
    assert.equal(health.status, 200);
    const call = node.createCall();
    const clinician = await sockets.connect(node, { token: call.hostToken() });
    await ok(clinician, 'call:join', {});
    const transport = await ok(clinician, 'transport:create', { direction: 'send' });
    assert.ok(transport.iceCandidates.length > 0);
    clinician.disconnect();
    assert.deepEqual(faults.faults(), [], 'no uncaught exception or unhandled rejection');
  }

  it('handles every client event the contract names (each is fuzzed below)', async () => {
    const { clinician } = await currentWorld();
    const socket = node.app.io.sockets.sockets.get(clinician.id!);
    assert.ok(socket, 'the clinician’s socket on the node');
    // an event the contract names but nothing handles would leave its asker waiting for ever
    const unhandled = clientEvents.filter((event) => socket.listeners(event as never).length === 0);
    assert.deepEqual(unhandled, [], 'every contract event has a handler');
  });

  for (const event of clientEvents) {
    it(`answers hostile '${event}' payloads with a coded error, well-formed ones without a fault`, async () => {
      const check = payloadCheck(ClientPayloads[event]);
      fuzzOptions.samples.rtpCapabilities = (await currentWorld()).join.routerRtpCapabilities;
      const sender = fc.constantFrom<'clinician' | 'patient' | 'guest'>(
        'clinician',
        'clinician',
        'patient',
        'guest',
      );
      await fc.assert(
        fc.asyncProperty(
          sender,
          argumentShapes,
          nearSchema(ClientPayloads[event], fuzzOptions),
          hostileValue,
          async (who, shape, payload, extra) => {
            const args = argumentsFor(shape, payload, extra);
            fc.pre(encodedSize(args) < 60_000); // larger frames close the connection (maxHttpBufferSize)
            const current = await currentWorld();
            const socket = current[who];
            const [received] = asReceived(args);
            const wellFormed = shape === 'payload and ack' && check(received);
            // without an ack the event is ignored: it must change nothing and crash nothing
            if (!withAck(shape)) return void socket.emit(event, ...args);
            const answer = await emitAsking(socket, event, args);
            if (!wellFormed) {
              assertCodedRefusal(answer, `${event} from the ${who}, ${shape}`, ['badRequest']);
              return;
            }
            if ((answer as { ok?: unknown }).ok === true) {
              if (changesTheCall.has(event)) current.stale = true;
              return;
            }
            const code = assertCodedRefusal(answer, `${event} from the ${who}`);
            assert.notEqual(
              code,
              'internal',
              `a well-formed ${event} refused as a fault: ${JSON.stringify(answer)}`,
            );
          },
        ),
        { seed: fuzzSeed, numRuns: 30, endOnFailure: true },
      );
      await assertStillServes();
    });
  }

  it('refuses events the contract does not name when asked for an answer, and ignores them otherwise', async () => {
    const names = fc.oneof(
      hostileString,
      fc.constantFrom(
        'error',
        '__proto__',
        'constructor',
        'toString',
        'participants:updated',
        'chat:message',
      ),
    );
    const { clinician } = await currentWorld();
    await fc.assert(
      fc.asyncProperty(names, hostileValue, fc.boolean(), async (name, payload, asking) => {
        fc.pre(!Object.hasOwn(ClientPayloads, name) && encodedSize([name, payload]) < 60_000);
        fc.pre(
          ![
            'connect',
            'connect_error',
            'disconnect',
            'disconnecting',
            'newListener',
            'removeListener',
          ].includes(name),
        );
        if (!asking) return void clinician.emit(name, payload);
        const answer = await emitAsking(clinician, name, [payload]);
        assertCodedRefusal(answer, `unknown event ${name.slice(0, 40)}`, ['badRequest']);
      }),
      { seed: fuzzSeed, numRuns: 60, endOnFailure: true },
    );
    assert.ok(clinician.connected, 'the socket stays open');
    await assertStillServes();
  });

  it('refuses hostile handshakes with a coded connect error', async () => {
    const call = node.createCall();
    const auth = fc.oneof(
      fc.dictionary(fc.constantFrom('token', 'holderKey', 'callId', '__proto__', 'x'), hostileValue, {
        maxKeys: 4,
      }),
      fc
        .tuple(hostileValue, fc.constantFrom('holderKey', 'callId', 'extra'))
        .map(([value, key]) => ({ token: call.patientToken, [key]: value })),
    );
    await fc.assert(
      fc.asyncProperty(auth, async (handshake) => {
        fc.pre(encodedSize([handshake]) < 60_000);
        try {
          const socket = await sockets.connect(node, handshake);
          socket.disconnect(); // a well-formed handshake may get in: the patient's link is valid
        } catch (error) {
          assert.ok(error instanceof Refused, String(error));
          assert.ok(
            ['unauthorized', 'notFound', 'forbidden', 'badRequest', 'conflict'].includes(error.code),
            error.code,
          );
          assertCodedRefusal({ ok: false, error: error.data }, 'handshake refusal');
        }
      }),
      { seed: fuzzSeed, numRuns: 30, endOnFailure: true },
    );
    await assertStillServes();
  });

  it('survives malformed socket.io packets: at worst that connection closes', async () => {
    const call = node.createCall();
    await fc.assert(
      fc.asyncProperty(fc.array(malformedPackets, { minLength: 1, maxLength: 4 }), async (packets) => {
        const socket = await sockets.connect(node, { token: call.hostToken() });
        for (const packet of packets) socket.io.engine.send(packet);
        // a packet the parser refuses closes the connection; anything else is ignored or answered
        await new Promise((resolve) => setTimeout(resolve, 5));
        socket.disconnect();
      }),
      { seed: fuzzSeed, numRuns: 40, endOnFailure: true },
    );
    await waitFor(
      'the node to be idle again',
      async () => (await fetch(`${node.url}/health`)).status === 200,
    );
    await assertStillServes();
  });

  it('refuses a transport connected twice, and a stream already sent, as bad requests rather than faults', async () => {
    world = undefined;
    const current = await currentWorld();
    const { clinician, ids } = current;
    const send = ids[3]!;
    const connect = { transportId: send, dtlsParameters: fuzzOptions.samples.dtlsParameters };
    await ok(clinician, 'transport:connect', connect);
    assertCodedRefusal(await emitAsking(clinician, 'transport:connect', [connect]), 'connect again', [
      'badRequest',
    ]);
    // the world's producer took this SSRC on the send transport
    const again = { transportId: send, kind: 'audio', rtpParameters: opusRtpParameters(ssrc - 1, 'fuzz') };
    assertCodedRefusal(await emitAsking(clinician, 'produce', [again]), 'the same SSRC again', [
      'badRequest',
    ]);
    const twice = opusRtpParameters(ssrc++, 'fuzz');
    const doubled = { ...twice, encodings: [...twice.encodings, ...twice.encodings] };
    const selfClash = { transportId: send, kind: 'audio', rtpParameters: doubled };
    assertCodedRefusal(await emitAsking(clinician, 'produce', [selfClash]), 'one SSRC twice', ['badRequest']);
    current.stale = true;
    await assertStillServes();
  });

  it('answers payloads nested deeper than a client library can encode, in every field of every event', async () => {
    const current = await currentWorld();
    const [send, producerId] = [current.ids[3]!, current.ids[6]!];
    // a well-formed payload of each event, to put the deep value into one field at a time
    const wellFormed: Record<ClientEventName, Record<string, unknown>> = {
      'call:join': {},
      'call:admit': { participantId: current.ids[2] },
      'call:remove': { participantId: current.ids[2] },
      'call:leave': {},
      'call:end': {},
      'transport:create': { direction: 'send' },
      'transport:connect': { transportId: send, dtlsParameters: fuzzOptions.samples.dtlsParameters },
      'transport:restart-ice': { transportId: send },
      produce: { transportId: send, kind: 'audio', rtpParameters: opusRtpParameters(44440000, 'deep') },
      consume: {
        transportId: current.ids[4],
        producerId,
        rtpCapabilities: current.join.routerRtpCapabilities,
      },
      'consumer:resume': { consumerId: current.ids[7] },
      'call:audio-only': { on: true },
      'producer:pause': { producerId },
      'producer:resume': { producerId },
      'producer:close': { producerId },
      'chat:send': { text: 'deep' },
      'call:quality': {
        windowSeconds: 15,
        sendKbps: 1,
        receiveKbps: 1,
        lossPercent: 0,
        freezeCount: 0,
        freezeSeconds: 0,
      },
    };
    assert.deepEqual(Object.keys(wellFormed).sort(), [...clientEvents].sort(), 'a sample of every event');
    /** The payload deep itself, each field deep, and each key of an object field deep (mediasoup's parameters). */
    const deepVariants = (payload: Record<string, unknown>): [string, unknown][] => [
      ['the payload', 'DEEP'],
      ['an extra field', { ...payload, extra: 'DEEP' }],
      ...Object.entries(payload).flatMap(([field, value]): [string, unknown][] => [
        [field, { ...payload, [field]: 'DEEP' }],
        ...(value && typeof value === 'object'
          ? Object.keys(value).map((key): [string, unknown] => [
              `${field}.${key}`,
              { ...payload, [field]: { ...value, [key]: 'DEEP' } },
            ])
          : []),
      ]),
    ];
    const answers = new Map<number, unknown>();
    for (const socket of [current.clinician, current.patient])
      socket.io.engine.on('message', (data: unknown) => {
        const ack = typeof data === 'string' ? /^3(\d+)(\[.*)$/s.exec(data) : null;
        if (ack) answers.set(Number(ack[1]), (JSON.parse(ack[2]!) as unknown[])[0]);
      });
    let id = 900_000;
    for (const event of clientEvents) {
      // the patient consumes the clinician's audio; the clinician does everything else
      const socket = event === 'consume' ? current.patient : current.clinician;
      for (const [where, payload] of deepVariants(wellFormed[event])) {
        const ackId = id++;
        socket.io.engine.send(deepPacket(event, payload, 20_000, ackId));
        const what = `an answer to ${event} with ${where} nested 20000 deep`;
        const answer = await waitFor(what, () => answers.get(ackId), { timeoutMs: 5000, intervalMs: 10 });
        // mediasoup's parameters are free-form to the contract: one it takes deep is no fault
        if ((answer as { ok?: unknown }).ok === true) continue;
        const code = assertCodedRefusal(answer, what);
        assert.notEqual(code, 'internal', `${what}: ${JSON.stringify(answer)}`);
      }
    }
    assert.ok(current.clinician.connected);
    await assertStillServes();
  });

  it('serves a well-formed call after the storm, with no uncaught exception or unhandled rejection', async () => {
    world = undefined;
    const fresh = await currentWorld();
    const chat = await emitAsking(fresh.clinician, 'chat:send', [{ text: 'still here' }]);
    assert.deepEqual(chat, { ok: true, data: {} });
    await assertStillServes();
  });
});
