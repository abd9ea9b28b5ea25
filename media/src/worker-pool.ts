import { EventEmitter } from 'node:events';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';

export interface MediaWorkerPoolSettings {
  /** Workers to run; one per core is the usual choice. */
  workers: number;
  /** Worker n's WebRtcServer listens on rtcPort + n, UDP and TCP. */
  rtcPort: number;
  rtcListenIp: string;
  /** The address browsers are told to use, when it differs from the listening one (NAT). */
  rtcAnnouncedAddress?: string;
  logLevel?: types.WorkerLogLevel;
}

/** A mediasoup worker with its WebRtcServer: one UDP and one TCP port for every transport on it. */
export interface MediaWorker {
  readonly index: number;
  readonly worker: types.Worker;
  readonly webRtcServer: types.WebRtcServer;
  /** Routers on this worker: the load measure for placing new rooms. */
  routers: number;
}

interface PoolEvents {
  /** A worker died and was replaced; its routers (and so their rooms) are gone. */
  workerReplaced: [replacement: MediaWorker, deadPid: number];
  /** A worker died and could not be replaced: the process should exit for its supervisor to restart it. */
  fatal: [error: Error];
}

/**
 * Owns the mediasoup workers of this process. A worker that dies is replaced on the same port; the
 * pool tells its users so they can re-create their rooms and tell clients to rejoin.
 */
export class MediaWorkerPool extends EventEmitter<PoolEvents> {
  private readonly slots: (MediaWorker | undefined)[];
  private closed = false;

  private constructor(private readonly settings: MediaWorkerPoolSettings) {
    super();
    this.slots = new Array<MediaWorker | undefined>(settings.workers).fill(undefined);
  }

  static async create(settings: MediaWorkerPoolSettings): Promise<MediaWorkerPool> {
    const pool = new MediaWorkerPool(settings);
    try {
      for (let index = 0; index < settings.workers; index++)
        pool.slots[index] = await pool.startWorker(index);
    } catch (error) {
      pool.close();
      throw error;
    }
    return pool;
  }

  get workers(): readonly MediaWorker[] {
    return this.slots.filter((slot): slot is MediaWorker => slot !== undefined && !slot.worker.closed);
  }

  /** The live worker with the fewest routers: where a new room goes. */
  leastLoaded(): MediaWorker {
    const [best] = [...this.workers].sort((a, b) => a.routers - b.routers);
    if (!best) throw new Error('no live mediasoup worker');
    return best;
  }

  /**
   * A live worker for a new room: the least loaded, or, while every worker is dead and being
   * replaced (a node with one worker), the first replacement, waited for up to `timeoutMs`. A room
   * whose worker died is re-created at once this way, rather than refused until a client retries.
   */
  async liveWorker(timeoutMs = 5000): Promise<MediaWorker> {
    if (this.workers.length > 0 || this.closed) return this.leastLoaded();
    await new Promise<void>((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.off('workerReplaced', done);
        this.off('fatal', done);
        resolve();
      };
      const timer = setTimeout(done, timeoutMs);
      this.on('workerReplaced', done);
      this.on('fatal', done);
    });
    return this.leastLoaded();
  }

  private async startWorker(index: number): Promise<MediaWorker> {
    const worker = await mediasoup.createWorker({ logLevel: this.settings.logLevel ?? 'warn' });
    try {
      const port = this.settings.rtcPort + index;
      const announcedAddress = this.settings.rtcAnnouncedAddress;
      const listenInfo = (protocol: 'udp' | 'tcp'): types.WebRtcServerListenInfo => ({
        protocol,
        ip: this.settings.rtcListenIp,
        ...(announcedAddress ? { announcedIp: announcedAddress } : {}),
        port,
      });
      const webRtcServer = await worker.createWebRtcServer({
        listenInfos: [listenInfo('udp'), listenInfo('tcp')],
      });
      const slot: MediaWorker = { index, worker, webRtcServer, routers: 0 };
      worker.observer.on('newrouter', (router) => {
        slot.routers++;
        router.observer.once('close', () => slot.routers--);
      });
      worker.once('died', () => void this.replace(index, worker.pid));
      return slot;
    } catch (error) {
      worker.close();
      throw error;
    }
  }

  private async replace(index: number, deadPid: number): Promise<void> {
    if (this.closed) return;
    this.slots[index] = undefined;
    try {
      // the dead worker's port is free again once the process is gone
      const replacement = await this.startWorker(index);
      if (this.closed) {
        replacement.worker.close();
        return;
      }
      this.slots[index] = replacement;
      this.emit('workerReplaced', replacement, deadPid);
    } catch (error) {
      this.emit('fatal', error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Closes every worker, and with them their servers, routers and transports. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const slot of this.slots) slot?.worker.close();
    this.slots.fill(undefined);
  }
}
