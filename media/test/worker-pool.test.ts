import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { once } from 'node:events';
import type * as MediaTypes from '../src/index';
import { loadMedia, startTestPool } from './support/load-media';

type MediaModule = typeof MediaTypes;
let media: MediaModule;

before(async () => {
  media = await loadMedia();
});

describe('media worker pool on real mediasoup workers', () => {
  let pool: Awaited<ReturnType<MediaModule['MediaWorkerPool']['create']>>;
  let rtcPort: number;

  before(async () => {
    ({ pool, rtcPort } = await startTestPool({ workers: 2 }));
  });

  after(() => pool.close());

  it('starts the workers, each with a WebRtcServer on its own port', () => {
    assert.equal(pool.workers.length, 2);
    assert.deepEqual(
      pool.workers.map((slot) => slot.index),
      [0, 1],
    );
  });

  it('creates a router with Opus, VP8 and H264 and a WebRTC transport on the WebRtcServer', async () => {
    const slot = pool.leastLoaded();
    const router = await slot.worker.createRouter({ mediaCodecs: media.mediaCodecs });
    const mimeTypes = router.rtpCapabilities.codecs?.map((codec) => codec.mimeType) ?? [];
    for (const mimeType of ['audio/opus', 'video/VP8', 'video/H264'])
      assert.ok(mimeTypes.includes(mimeType), mimeType);

    const transport = await router.createWebRtcTransport({
      webRtcServer: slot.webRtcServer,
      enableUdp: true,
      enableTcp: true,
    });
    const ports = new Set(transport.iceCandidates.map((candidate) => candidate.port));
    assert.deepEqual([...ports], [rtcPort + slot.index]);
    assert.ok(transport.iceCandidates.some((candidate) => candidate.protocol === 'udp'));
    assert.ok(transport.iceCandidates.some((candidate) => candidate.protocol === 'tcp'));

    assert.equal(slot.routers, 1);
    router.close();
    assert.ok(transport.closed, 'closing the router closes its transports');
    assert.equal(slot.routers, 0);
  });

  it('places new routers on the least-loaded worker', async () => {
    const first = pool.leastLoaded();
    const router = await first.worker.createRouter({ mediaCodecs: media.mediaCodecs });
    const second = pool.leastLoaded();
    assert.notEqual(second.index, first.index);
    router.close();
  });

  it('replaces a worker that dies, on the same port', async () => {
    const victim = pool.workers[0]!;
    const replaced = once(pool, 'workerReplaced');
    process.kill(victim.worker.pid, 'SIGKILL');
    const [replacement, deadPid] = (await replaced) as [{ index: number; worker: { pid: number } }, number];
    assert.equal(deadPid, victim.worker.pid);
    assert.equal(replacement.index, 0);
    assert.notEqual(replacement.worker.pid, victim.worker.pid);
    assert.equal(pool.workers.length, 2);

    const slot = pool.workers.find((candidate) => candidate.index === 0)!;
    const router = await slot.worker.createRouter({ mediaCodecs: media.mediaCodecs });
    const transport = await router.createWebRtcTransport({ webRtcServer: slot.webRtcServer });
    assert.equal(transport.iceCandidates[0]?.port, rtcPort);
    router.close();
  });

  it('closes every worker, idempotently', () => {
    const workers = pool.workers.map((slot) => slot.worker);
    pool.close();
    pool.close();
    assert.ok(workers.every((worker) => worker.closed));
    assert.equal(pool.workers.length, 0);
  });
});

describe('a media worker pool of one worker, when that worker dies', () => {
  it('gives a new room the replacement, waiting for it to start', async () => {
    const { pool } = await startTestPool({ workers: 1 });
    try {
      const victim = pool.workers[0]!;
      const died = once(victim.worker, 'died');
      process.kill(victim.worker.pid, 'SIGKILL');
      await died;
      assert.equal(pool.workers.length, 0, 'no live worker until the replacement is up');
      const slot = await pool.liveWorker();
      assert.notEqual(slot.worker.pid, victim.worker.pid);
      assert.equal(slot.worker.closed, false);
      const room = await media.Room.create('after-the-death', slot);
      assert.equal(slot.routers, 1);
      room.close();
    } finally {
      pool.close();
    }
  });
});
