import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type * as MediaTypes from '../src/index';
import { loadMedia } from './support/load-media';

type MediaModule = typeof MediaTypes;
let media: MediaModule;

before(async () => {
  media = await loadMedia();
});

const opus = {
  codecs: [
    {
      mimeType: 'audio/opus',
      payloadType: 111,
      clockRate: 48000,
      channels: 2,
      parameters: {},
      rtcpFeedback: [],
    },
  ],
  encodings: [{ ssrc: 22222222 }],
  rtcp: { cname: 'room-test' },
};

describe('room and peers on a real mediasoup worker', () => {
  let pool: MediaTypes.MediaWorkerPool;

  before(async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    pool = await media.MediaWorkerPool.create({ workers: 1, rtcPort: port, rtcListenIp: '127.0.0.1' });
  });
  after(() => pool.close());

  it('lets a peer consume another peer’s producer, paused, and nothing of its own or unknown', async () => {
    const room = await media.Room.create('call-1', pool.leastLoaded());
    const clinician = room.addPeer('clinician');
    const patient = room.addPeer('patient');
    const send = await clinician.createTransport('send');
    const producer = await clinician.produce(send.id, 'audio', opus);
    const recv = await patient.createTransport('recv');
    const consumer = await patient.consume(recv.id, producer.id, room.router.rtpCapabilities);
    assert.equal(consumer.paused, true);
    assert.deepEqual(
      room.producersFor(patient).map(({ producer: p }) => p.id),
      [producer.id],
    );
    await assert.rejects(
      clinician.consume(send.id, producer.id, room.router.rtpCapabilities),
      media.MediaNotFoundError,
    );
    await assert.rejects(
      patient.consume(recv.id, 'unknown', room.router.rtpCapabilities),
      media.MediaNotFoundError,
    );
    assert.throws(
      () => patient.transport(send.id),
      media.MediaNotFoundError,
      'another peer’s transport is not found',
    );
    room.close();
  });

  it('cascades close from peer to transports, producers and consumers, and from room to router, idempotently', async () => {
    const room = await media.Room.create('call-2', pool.leastLoaded());
    const clinician = room.addPeer('clinician');
    const patient = room.addPeer('patient');
    const send = await clinician.createTransport('send');
    const producer = await clinician.produce(send.id, 'audio', opus);
    const recv = await patient.createTransport('recv');
    const consumer = await patient.consume(recv.id, producer.id, room.router.rtpCapabilities);

    clinician.close();
    clinician.close();
    assert.ok(send.closed && producer.closed, 'the peer’s transport and producer closed');
    // the worker tells consumers of a closed producer asynchronously
    for (let wait = 0; wait < 50 && !consumer.closed; wait++)
      await new Promise((resolve) => setTimeout(resolve, 20));
    assert.ok(consumer.closed, 'consumers of its producer closed too');
    assert.equal(room.peer('clinician'), undefined);

    let closedEvents = 0;
    room.on('closed', () => closedEvents++);
    room.close();
    room.close();
    assert.ok(room.router.closed && recv.closed && patient.closed);
    assert.equal(closedEvents, 1);
    assert.equal(pool.leastLoaded().routers, 0);
  });

  it('replaces a peer that joins again: the old one is closed', async () => {
    const room = await media.Room.create('call-3', pool.leastLoaded());
    const first = room.addPeer('patient');
    const transport = await first.createTransport('send');
    const second = room.addPeer('patient');
    assert.ok(first.closed && transport.closed);
    assert.equal(room.peer('patient'), second);
    room.close();
  });
});
