import assert from 'node:assert/strict';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, createServer, type Server } from 'node:net';
import { after, describe, it } from 'node:test';
import { startImpairmentRelay, stunServerUfrag, type ImpairmentRelay } from '../src/impairment-relay';
import { waitFor } from '../src/wait';

/** A STUN binding request naming the server's ufrag, as a browser's ICE check does. */
function stunCheck(serverUfrag: string): Buffer {
  const username = Buffer.from(`${serverUfrag}:client`);
  const padded = Math.ceil(username.length / 4) * 4;
  const packet = Buffer.alloc(20 + 4 + padded);
  packet.writeUInt16BE(0x0001, 0);
  packet.writeUInt16BE(4 + padded, 2);
  packet.writeUInt32BE(0x2112a442, 4);
  packet.writeUInt16BE(0x0006, 20);
  packet.writeUInt16BE(username.length, 22);
  username.copy(packet, 24);
  return packet;
}

/**
 * A stand-in for the WebRtcServer on 127.0.0.1, UDP and TCP on one port: it echoes each UDP
 * datagram back and each TCP chunk back, and counts what it got.
 */
async function startEchoServer(): Promise<{ port: number; udpReceived: Buffer[]; close(): Promise<void> }> {
  const udp = createSocket('udp4');
  const udpReceived: Buffer[] = [];
  udp.on('message', (packet, rinfo) => {
    udpReceived.push(packet);
    udp.send(packet, rinfo.port, rinfo.address);
  });
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve));
  const { port } = udp.address();
  const tcp: Server = createServer((socket) => socket.pipe(socket));
  await new Promise<void>((resolve) => tcp.listen(port, '127.0.0.1', resolve));
  return {
    port,
    udpReceived,
    close: async () => {
      udp.close();
      await new Promise<void>((resolve) => tcp.close(() => resolve()));
    },
  };
}

async function udpClient(): Promise<{ socket: UdpSocket; received: { at: number; packet: Buffer }[] }> {
  const socket = createSocket('udp4');
  const received: { at: number; packet: Buffer }[] = [];
  socket.on('message', (packet) => received.push({ at: performance.now(), packet }));
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  after(() => socket.close());
  return { socket, received };
}

describe('impairment relay on real sockets', async () => {
  const server = await startEchoServer();
  after(() => server.close());
  const relay: ImpairmentRelay = await startImpairmentRelay({
    listenHost: '127.0.0.2',
    port: server.port,
    targetHost: '127.0.0.1',
    targetPort: server.port,
  });
  after(() => relay.close());
  const send = (client: UdpSocket, packet: Buffer) => client.send(packet, relay.port, relay.host);

  it('reads the server ufrag from a STUN check and nothing from other packets', () => {
    assert.equal(stunServerUfrag(stunCheck('abcd1234')), 'abcd1234');
    assert.equal(stunServerUfrag(Buffer.from('not stun at all, just RTP-ish bytes')), undefined);
  });

  it('passes datagrams both ways, and adds the delay it is told on each direction', async () => {
    relay.set({ up: { delayMs: 60 }, down: { delayMs: 40 } });
    const client = await udpClient();
    const sentAt = performance.now();
    send(client.socket, Buffer.from('ping'));
    const [echo] = await waitFor('the echo', () => client.received.length > 0 && client.received);
    assert.equal(echo!.packet.toString(), 'ping');
    assert.ok(echo!.at - sentAt >= 99, `round trip ${echo!.at - sentAt} ms, at least 60 + 40`);
    relay.clear();
  });

  it('is a bottleneck: a burst leaves at the rate, the queue beyond its limit is dropped, and lifting the limit lets all through', async () => {
    // 1000-byte datagrams at 80 kbit/s take 103 ms each; a 400 ms queue holds about 4 of 30
    relay.set({ up: { rateKbps: 80, queueMs: 400 } });
    const before = relay.counters().up;
    const client = await udpClient();
    const firstAt = performance.now();
    for (let i = 0; i < 30; i++) send(client.socket, Buffer.alloc(1000, i));
    await waitFor('the queue to drain', () => {
      const now = relay.counters().up;
      return now.packets + now.overflowed - before.packets - before.overflowed === 30 && now;
    });
    const passed = await waitFor('the echoes', async () => {
      await new Promise((resolve) => setTimeout(resolve, 600));
      return client.received.length;
    });
    const overflowed = relay.counters().up.overflowed - before.overflowed;
    assert.ok(passed >= 2 && passed <= 10, `${passed} of 30 through the 400 ms queue`);
    assert.equal(passed + overflowed, 30, 'each datagram either crossed or overflowed; none lost at random');
    const last = client.received.at(-1)!.at;
    assert.ok(last - firstAt >= (passed - 1) * 100, `${passed} datagrams took ${last - firstAt} ms`);

    relay.clear();
    const clear = await udpClient();
    for (let i = 0; i < 30; i++) send(clear.socket, Buffer.alloc(1000, i));
    await waitFor('all 30 echoes with no limit', () => clear.received.length === 30);
  });

  it('loses what it is told to, changed during a flow, only on the flows chosen by their STUN ufrag', async () => {
    relay.select((flow) => flow.serverUfrag === 'patient');
    relay.set({ down: { lossPercent: 100 } });
    const patient = await udpClient();
    const clinician = await udpClient();
    send(patient.socket, stunCheck('patient'));
    send(clinician.socket, stunCheck('clinician'));
    await waitFor('the clinician’s echo', () => clinician.received.length === 1);
    await waitFor('the patient’s echo counted lost', () => relay.counters().down.lost === 1);
    assert.equal(server.udpReceived.filter((packet) => stunServerUfrag(packet) === 'patient').length, 1);
    assert.equal(patient.received.length, 0, 'nothing reached the patient at 100 % loss');

    relay.set({ down: { lossPercent: 0 } });
    send(patient.socket, Buffer.from('after'));
    await waitFor('the patient’s echo once loss is lifted', () => patient.received.length === 1);
    assert.equal(patient.received[0]!.packet.toString(), 'after');
    relay.select(() => true);
    relay.clear();
  });

  it('carries RFC 4571 frames over TCP whole and in order under a rate limit and delay', async () => {
    relay.set({ up: { rateKbps: 400, delayMs: 20 }, down: { delayMs: 20 } });
    const socket = connect(relay.port, relay.host);
    after(() => socket.destroy());
    const frames = Array.from({ length: 20 }, (_, i) => {
      const payload = i === 0 ? stunCheck('tcp-client') : Buffer.alloc(300 + i, i);
      const frame = Buffer.alloc(2 + payload.length);
      frame.writeUInt16BE(payload.length, 0);
      payload.copy(frame, 2);
      return frame;
    });
    const expected = Buffer.concat(frames);
    const chunks: Buffer[] = [];
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    await new Promise<void>((resolve) => socket.once('connect', resolve));
    // written in pieces that cut frames in half: the relay must find the frames itself
    for (let offset = 0; offset < expected.length; offset += 257)
      socket.write(expected.subarray(offset, offset + 257));
    await waitFor('every frame echoed', () => Buffer.concat(chunks).length >= expected.length);
    assert.ok(Buffer.concat(chunks).equals(expected), 'the same bytes, in order');
    relay.clear();
  });

  it('closes twice without complaint', async () => {
    const spare = await startImpairmentRelay({
      listenHost: '127.0.0.3',
      port: server.port,
      targetHost: '127.0.0.1',
      targetPort: server.port,
    });
    await Promise.all([spare.close(), spare.close()]);
    // its address and port are free again
    const again = createSocket('udp4');
    await new Promise<void>((resolve) => again.bind(server.port, '127.0.0.3', resolve));
    await new Promise<void>((resolve) => again.close(() => resolve()));
  });
});
