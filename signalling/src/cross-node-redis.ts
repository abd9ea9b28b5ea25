// The call node's Redis clients, for socket.io's Redis adapter: events to sockets on other call
// nodes. Media and the calls on this node never wait on Redis, so an outage (a restart, a
// failover) loses only cross-node events, logged, and they resume by themselves when it is back.
import { Redis, type RedisOptions } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';

export interface CrossNodeRedis {
  /** Publishes the adapter's broadcasts; fails at once while Redis is away, never queues them. */
  publisher: Redis;
  /** Holds the adapter's subscriptions; asked for while Redis is away, they are sent when it is back. */
  subscriber: Redis;
  /** Hears triage's staff revocations (staff-revocation.ts), resubscribing the same way. */
  revocations: Redis;
  /** Resolves true when both clients are connected and Redis answers a PING within `timeoutMs`. */
  answers(timeoutMs?: number): Promise<boolean>;
  disconnect(): void;
}

/** Tries again every 200 ms at first, then every 2 s, for as long as it takes. */
const reconnectDelay = (attempt: number) => Math.min(attempt * 200, 2000);

/**
 * Both clients of the adapter, each with an error handler (ioredis reports every failed reconnect
 * as an 'error' event: without a handler the adapter prints "missing 'error' handler" each time).
 * An outage is logged once as it starts and once as it ends, not on every reconnect attempt.
 */
export function connectCrossNodeRedis(url: string, logger: FastifyBaseLogger): CrossNodeRedis {
  const common: RedisOptions = { retryStrategy: reconnectDelay };
  const publisher = new Redis(url, {
    ...common,
    // a broadcast while Redis is away fails now, not after minutes queued
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
  });
  const subscriber = new Redis(url, {
    ...common,
    // the adapter subscribes once, as it is made: those commands wait for Redis however long it
    // takes (ioredis sends them when it is ready, and subscribes again after each reconnect)
    maxRetriesPerRequest: null,
  });
  const revocations = new Redis(url, { ...common, maxRetriesPerRequest: null });

  let lostPublishes = 0;
  // the adapter drops publish's promise: a failure here would be an unhandled rejection (a crash)
  const publish = publisher.publish.bind(publisher);
  publisher.publish = (channel: string | Buffer, message: string | Buffer) =>
    publish(channel, message).catch((error: unknown) => {
      if (lostPublishes++ === 0)
        logger.error({ err: error }, 'Redis: an event for other call nodes was not sent (calls here go on)');
      return 0;
    });

  for (const [role, client] of [
    ['publisher', publisher],
    ['subscriber', subscriber],
    ['revocations', revocations],
  ] as const) {
    let down = false;
    client.on('error', (error: Error) => {
      if (down) return logger.debug({ err: error, role }, 'Redis still unreachable');
      down = true;
      logger.error(
        { err: error, role },
        'Redis unreachable: calls on this node go on; events to other call nodes fail until it is back',
      );
    });
    client.on('ready', () => {
      if (down || role === 'publisher') {
        logger.info(
          { role, ...(role === 'publisher' ? { lostPublishes } : {}) },
          down ? 'Redis back: events to other call nodes resume' : 'Redis connected',
        );
      }
      down = false;
      if (role === 'publisher') lostPublishes = 0;
    });
  }

  return {
    publisher,
    subscriber,
    revocations,
    async answers(timeoutMs = 1000) {
      if (publisher.status !== 'ready' || subscriber.status !== 'ready') return false;
      let timer: NodeJS.Timeout | undefined;
      const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), timeoutMs)));
      try {
        return await Promise.race([
          publisher.ping().then(
            () => true,
            () => false,
          ),
          timeout,
        ]);
      } finally {
        clearTimeout(timer);
      }
    },
    disconnect() {
      publisher.disconnect();
      subscriber.disconnect();
      revocations.disconnect();
    },
  };
}
