import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { waitFor } from '@gpc/test-support/wait';
import type * as MediaTypes from '../src/index';
import { loadMedia, startTestPool } from './support/load-media';
import { opusRtpParameters } from './support/rtp-parameters';

type MediaModule = typeof MediaTypes;
let media: MediaModule;

before(async () => {
  media = await loadMedia();
});

const opus = opusRtpParameters(22222222, 'room-test');

describe('room and peers on a real mediasoup worker', () => {
  let pool: MediaTypes.MediaWorkerPool;

  before(async () => {
    ({ pool } = await startTestPool({ workers: 1 }));
  });
  after(() => pool.close());

  /** A room where the patient consumes the clinician's audio: the clinician sends, the patient receives. */
  async function roomWithOneConsumer(roomId: string) {
    const room = await media.Room.create(roomId, pool.leastLoaded());
    const clinician = room.addPeer('clinician');
    const patient = room.addPeer('patient');
    const send = await clinician.createTransport('send');
    const producer = await clinician.produce(send.id, 'audio', opus);
    const recv = await patient.createTransport('recv');
    const consumer = await patient.consume(recv.id, producer.id, room.router.rtpCapabilities);
    return { room, clinician, patient, send, producer, recv, consumer };
  }

  it('lets a peer consume another peer’s producer, paused, and nothing of its own or unknown', async () => {
    const { room, clinician, patient, send, producer, recv, consumer } = await roomWithOneConsumer('call-1');
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
    const { room, clinician, patient, send, producer, recv, consumer } = await roomWithOneConsumer('call-2');

    clinician.close();
    clinician.close();
    assert.ok(send.closed && producer.closed, 'the peer’s transport and producer closed');
    // the worker tells consumers of a closed producer asynchronously
    await waitFor('the consumer of the closed producer to close', () => consumer.closed, {
      timeoutMs: 1000,
      intervalMs: 20,
    });
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

  it('refuses a client’s malformed or unsupported media parameters by type, and keeps the peer working', async () => {
    const { room, clinician, send } = await roomWithOneConsumer('call-4');
    const malformed = { ...opus, codecs: 'x' } as unknown as typeof opus;
    await assert.rejects(clinician.produce(send.id, 'audio', malformed), media.InvalidMediaParametersError);
    const g722 = { ...opus, codecs: [{ ...opus.codecs[0]!, mimeType: 'audio/G722', clockRate: 8000 }] };
    await assert.rejects(clinician.produce(send.id, 'audio', g722), media.InvalidMediaParametersError);
    const noFingerprints = {} as Parameters<typeof clinician.connectTransport>[1];
    await assert.rejects(
      clinician.connectTransport(send.id, noFingerprints),
      media.InvalidMediaParametersError,
    );
    await assert.rejects(clinician.connectTransport('unknown', noFingerprints), media.MediaNotFoundError);
    assert.ok(await clinician.createTransport('send'), 'the peer still works');
    room.close();
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
