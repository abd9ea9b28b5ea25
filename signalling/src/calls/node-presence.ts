// The call node's presence in Redis: its public URL and load, refreshed every few seconds under a
// key that expires without it, so triage places new calls on live nodes only (see
// contracts/src/call/placement.ts). Draining keeps the heartbeat (its calls still live here) but
// says it takes no new calls.
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import type { MediaWorkerPool } from '@gpc/media';
import {
  callNodeHeartbeatMs,
  callNodeHeartbeatTtlMs,
  callNodeKeyPrefix,
  callNodesKey,
  type CallNodeStatus,
} from '@gpc/contracts';
import type { CallRegistry } from './call-registry';

export interface NodePresenceDeps {
  redis: Redis;
  nodeId: string;
  /** The node's public signalling URL, as browsers reach it. */
  url: string;
  /** Where the site's web server reaches the node's signalling (it routes `/call-node/<id>/` there). */
  internalUrl?: string;
  calls: CallRegistry;
  media: MediaWorkerPool;
  logger: FastifyBaseLogger;
  heartbeatMs?: number;
  ttlMs?: number;
}

export class NodePresence {
  private timer: NodeJS.Timeout | undefined;
  private draining = false;
  private lastCpu: { seconds: number; at: number } | undefined;
  private failing = false;

  constructor(private readonly deps: NodePresenceDeps) {}

  /** Announces the node now and every heartbeat until `stop`. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => void this.beat(), this.deps.heartbeatMs ?? callNodeHeartbeatMs);
  }

  /** Takes no new calls from now on; resolves when none is left on the node. */
  async drain(pollMs = 1000): Promise<void> {
    this.draining = true;
    await this.beat();
    while (this.callsHere() > 0) await new Promise((resolve) => setTimeout(resolve, pollMs));
  }

  /** Stops the heartbeat and withdraws the node (its calls are placed again on their next join). */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.deps.redis.del(callNodeKeyPrefix + this.deps.nodeId).catch(() => 0);
  }

  /** Stops refreshing without withdrawing: as if the node had died (the key expires by itself). */
  silence(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  private callsHere(): number {
    return [...this.deps.calls.all()].length;
  }

  async status(): Promise<CallNodeStatus> {
    const sessions = [...this.deps.calls.all()];
    let [rooms, peers, consumers] = [0, 0, 0];
    for (const { room } of sessions) {
      if (!room || room.closed) continue;
      const counts = room.counts();
      rooms += 1;
      peers += counts.peers;
      consumers += counts.consumers;
    }
    return {
      id: this.deps.nodeId,
      url: this.deps.url,
      ...(this.deps.internalUrl ? { internalUrl: this.deps.internalUrl } : {}),
      calls: sessions.length,
      rooms,
      peers,
      consumers,
      cpu: await this.cpuShare(),
      draining: this.draining,
      at: Date.now(),
    };
  }

  /** The workers' CPU time since the last heartbeat over the wall time: 1 is one core busy. */
  private async cpuShare(): Promise<number> {
    let seconds = 0;
    for (const { worker } of this.deps.media.workers) {
      const usage = await worker.getResourceUsage().catch(() => undefined);
      if (usage) seconds += (usage.ru_utime + usage.ru_stime) / 1000;
    }
    const now = { seconds, at: Date.now() };
    const last = this.lastCpu;
    this.lastCpu = now;
    if (!last || now.at <= last.at) return 0;
    return Math.max(0, (now.seconds - last.seconds) / ((now.at - last.at) / 1000));
  }

  private async beat(): Promise<void> {
    try {
      const status = await this.status();
      await this.deps.redis
        .multi()
        .set(
          callNodeKeyPrefix + this.deps.nodeId,
          JSON.stringify(status),
          'PX',
          this.deps.ttlMs ?? callNodeHeartbeatTtlMs,
        )
        .sadd(callNodesKey, this.deps.nodeId)
        .exec();
      if (this.failing) this.deps.logger.info('call node heartbeat back: new calls may be placed here');
      this.failing = false;
    } catch (error) {
      // while Redis is away no call can be placed anywhere; the calls here go on. Redis not connected
      // (yet, at start, or since it went away) is said in words; any other failure with its error
      const connection = this.deps.redis.status;
      if (!this.failing && connection !== 'ready')
        this.deps.logger.warn({ redis: connection }, 'call node not announced: Redis is not connected');
      else if (!this.failing) this.deps.logger.error({ err: error }, 'call node heartbeat failed');
      this.failing = true;
    }
  }
}
