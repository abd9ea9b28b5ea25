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
