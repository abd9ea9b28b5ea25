// Hostile socket traffic against triage's live feed for staff dashboards (issue 16): every client
// event the contract names (StaffLiveClientPayloads: none today; one added there is fuzzed with
// payloads derived from its schema), any other event name, hostile handshakes and malformed packets,
// property-based with a fixed seed. No crash; every event that asks for an answer gets a coded one.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import { io as connect, type Socket } from 'socket.io-client';
import { StaffLive, StaffLiveClientPayloads } from '@gpc/contracts';
import { freeTextSubmission, openDashboard, startTriage, waitFor } from '@gpc/test-support';
import {
  argumentShapes,
  argumentsFor,
  assertCodedRefusal,
  emitAsking,
  encodedSize,
  fuzzSeed,
  hostileString,
  hostileValue,
  malformedPackets,
  nearSchema,
  watchProcessFaults,
  withAck,
} from '@gpc/test-support/socket-fuzz';

/** Names socket.io's client will not emit (it throws): they are tried as raw packets instead. */
const reserved = ['connect', 'connect_error', 'disconnect', 'disconnecting', 'newListener', 'removeListener'];

describe('staff live feed: hostile socket traffic is refused with coded errors and crashes nothing', async () => {
  const faults = watchProcessFaults();
  after(() => faults.stop());
  const { app, practiceA, as, formId, url, ...triage } = await startTriage({ after }, { live: {} });
  const token = () => as(practiceA, 'reception').token;
  const opened: Socket[] = [];
  after(() => opened.forEach((socket) => socket.disconnect()));

  /** A dashboard's socket (not through openDashboard: the fuzz needs the socket itself). */
  async function dashboardSocket(auth: Record<string, unknown> = { token: token() }): Promise<Socket> {
    const socket = connect(`${url}${StaffLive.namespace}`, {
      path: StaffLive.path,
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    opened.push(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (error: Error & { data?: unknown }) =>
        reject(Object.assign(new Error(error.message), { data: error.data })),
      );
    });
    return socket;
  }

  /** The feed still works: a new request reaches a new dashboard, and nothing crashed. */
  async function assertStillServes(): Promise<void> {
    const changes = await openDashboard(triage, url, token());
    const submitted = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: freeTextSubmission(await formId('fit-note'), 'x'),
    });
    assert.equal(submitted.statusCode, 201, submitted.body);
    await waitFor('the dashboard told of the new request', () => changes.length > 0, { timeoutMs: 5000 });
    assert.deepEqual(faults.faults(), [], 'no uncaught exception or unhandled rejection');
  }

  const contractEvents = Object.keys(StaffLiveClientPayloads);

  it('fuzzes every client event the contract names, and names none today', () => {
    assert.deepEqual(
      contractEvents,
      [],
      'dashboards send nothing: an event added to the contract needs handling',
    );
  });

  for (const event of contractEvents) {
    const schema = StaffLiveClientPayloads[event as keyof typeof StaffLiveClientPayloads];
    it(`answers hostile '${event}' payloads with a coded error`, async () => {
      const socket = await dashboardSocket();
      await fc.assert(
        fc.asyncProperty(argumentShapes, nearSchema(schema), hostileValue, async (shape, payload, extra) => {
          const args = argumentsFor(shape, payload, extra);
          fc.pre(encodedSize(args) < 60_000);
          if (!withAck(shape)) return void socket.emit(event, ...args);
          const answer = await emitAsking(socket, event, args);
          if ((answer as { ok?: unknown }).ok !== true) assertCodedRefusal(answer, event);
        }),
        { seed: fuzzSeed, numRuns: 40, endOnFailure: true },
      );
      await assertStillServes();
    });
  }

  it('refuses any event a dashboard sends with badRequest when asked for an answer, and ignores it otherwise', async () => {
    const socket = await dashboardSocket();
    const names = fc.oneof(
      hostileString,
      fc.constantFrom(
        'queue:changed',
        'error',
        '__proto__',
        'constructor',
        'toString',
        'hasOwnProperty',
        'then',
      ),
    );
    await fc.assert(
      fc.asyncProperty(
        names,
        argumentShapes,
        hostileValue,
        hostileValue,
        async (name, shape, payload, extra) => {
          const args = argumentsFor(shape, payload, extra);
          fc.pre(!reserved.includes(name) && encodedSize([name, ...args]) < 60_000);
          if (!withAck(shape)) return void socket.emit(name, ...args);
          const answer = await emitAsking(socket, name, args);
          assertCodedRefusal(answer, `${name.slice(0, 40)}, ${shape}`, ['badRequest']);
        },
      ),
      { seed: fuzzSeed, numRuns: 150, endOnFailure: true },
    );
    assert.ok(socket.connected, 'the dashboard stays connected');
    await assertStillServes();
  });

  it('refuses hostile handshakes with the unauthorized code', async () => {
    const auth = fc.oneof(
      fc.dictionary(fc.constantFrom('token', '__proto__', 'constructor', 'x'), hostileValue, { maxKeys: 3 }),
      fc.tuple(hostileValue, hostileString).map(([value, key]) => ({ token: value, [key]: value })),
      hostileString.filter((prefix) => prefix.length > 0).map((prefix) => ({ token: `${prefix}${token()}` })),
    );
    await fc.assert(
      fc.asyncProperty(auth, async (handshake) => {
        fc.pre(encodedSize([handshake]) < 60_000);
        await assert.rejects(dashboardSocket(handshake), (error: Error & { data?: unknown }) => {
          assert.equal(error.message, 'unauthorized');
          assert.deepEqual(error.data, { code: 'unauthorized' });
          return true;
        });
      }),
      { seed: fuzzSeed, numRuns: 40, endOnFailure: true },
    );
    await assertStillServes();
  });

  it('survives malformed socket.io packets: at worst that connection closes', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(malformedPackets, { minLength: 1, maxLength: 4 }), async (packets) => {
        const socket = await dashboardSocket();
        for (const packet of packets)
          socket.io.engine.send(packet.replace(/^(\d)/, `$1${StaffLive.namespace},`));
        for (const packet of packets) socket.io.engine.send(packet);
        await new Promise((resolve) => setTimeout(resolve, 5));
        socket.disconnect();
      }),
      { seed: fuzzSeed, numRuns: 60, endOnFailure: true },
    );
    await assertStillServes();
  });
});
