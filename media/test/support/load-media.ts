import type * as MediaModule from '../../src/index';

/**
 * The media library, loaded after MEDIASOUP_WORKER_BIN is set: mediasoup reads it when its module
 * loads, so tests import media through this rather than statically.
 */
export async function loadMedia(): Promise<typeof MediaModule> {
  if (!process.env.MEDIASOUP_WORKER_BIN) {
    const { ensureMediasoupWorker } = await import('../../../scripts/src/mediasoup-worker');
    process.env.MEDIASOUP_WORKER_BIN = await ensureMediasoupWorker({ log: () => undefined });
  }
  return import('../../src/index');
}

/**
 * A worker pool for tests on free ports. Worker i listens on the first port + i, and a port found
 * free can be taken before the worker binds it (by another test's server, or as the local port of
 * an outgoing connection: seen in CI), so a pool that meets a taken port is tried again on others.
 * mediasoup reports it only in its message ("address already in use"), with no code to test.
 */
export async function startTestPool(options: {
  workers: number;
  /** The address to announce instead of 127.0.0.1 (an impairment relay's); the relay takes the same port. */
  rtcAnnouncedAddress?: string;
}): Promise<{ pool: MediaModule.MediaWorkerPool; rtcPort: number }> {
  const { MediaWorkerPool } = await loadMedia();
  const { freePort } = await import('../../../scripts/src/ports');
  for (let attempt = 1; ; attempt++) {
    const rtcPort = await freePort();
    try {
      const pool = await MediaWorkerPool.create({
        workers: options.workers,
        rtcPort,
        rtcListenIp: '127.0.0.1',
        ...(options.rtcAnnouncedAddress ? { rtcAnnouncedAddress: options.rtcAnnouncedAddress } : {}),
      });
      return { pool, rtcPort };
    } catch (error) {
      if (attempt >= 5 || !String(error).includes('address already in use')) throw error;
    }
  }
}
