import type { EventEmitter } from 'node:events';
import type { FastifyBaseLogger } from 'fastify';
import type { Redis, RedisOptions } from 'ioredis';

/**
 * Redis is where queues and live updates pass, never where anything owed is kept (that is in
 * PostgreSQL): while it is down, requests still succeed and each call that needs it fails fast.
 */

/** Tries to reconnect at most every 2 s, for as long as it takes (bull's own backoff grows to 20 s). */
export const reconnectPromptly = (times: number): number => Math.min(200 * times, 2000);

/** Options for triage's own ioredis clients: a command fails at once while Redis is down, never waits. */
export const failFastRedisOptions: RedisOptions = {
  // commands asked for while disconnected are refused at once rather than queued for when it returns
  enableOfflineQueue: false,
  // a command in flight when Redis dies is tried once more on reconnecting, then refused
  maxRetriesPerRequest: 1,
  retryStrategy: reconnectPromptly,
};

/** A call that needs Redis gives up after this long (a close must answer quickly while it is down). */
export const redisCallTimeoutMs = 1500;

/** A client (or bull queue) whose status says whether Redis answers right now. */
export interface RedisStatus {
  readonly status: string;
}

/** Runs a call that needs Redis: refused at once when the client is not connected, and given up on after `timeoutMs`. */
export async function withRedis<T>(
  client: RedisStatus,
  call: () => Promise<T>,
  timeoutMs = redisCallTimeoutMs,
): Promise<T> {
  // lost (or never reached): refused at once; still connecting at first, given its time below
  if (['reconnecting', 'close', 'end'].includes(client.status)) {
    throw new Error(`Redis is not connected (${client.status})`);
  }
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new Error(`Redis did not answer within ${timeoutMs} ms`)), timeoutMs);
  });
  try {
    // the call may still settle after the timeout: race handles its rejection too
    return await Promise.race([call(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Logs a Redis client's (or bull queue's) outage once when it starts and once when it ends, at
 * warn, instead of an error each reconnect attempt; its 'error' events never go unhandled.
 */
export function watchRedis(
  emitter: EventEmitter,
  name: string,
  logger: FastifyBaseLogger,
  options: { onBack?: () => void; readyFrom?: EventEmitter } = {},
): void {
  let down = false;
  emitter.on('error', (error: unknown) => {
    if (down) return;
    down = true;
    logger.warn(
      { redis: name, err: { message: error instanceof Error ? error.message : String(error) } },
      'Redis is down: live updates and queues wait for it',
    );
  });
  (options.readyFrom ?? emitter).on('ready', () => {
    if (!down) return;
    down = false;
    logger.warn({ redis: name }, 'Redis is back');
    options.onBack?.();
  });
}

/** The bull queue's own command client, whose status tells whether the queue can take a job now. */
export function queueClient(queue: { client: Redis }): RedisStatus {
  return {
    get status() {
      return queue.client.status;
    },
  };
}

/**
 * The live updates' publisher as the socket.io Redis adapter sees it: its `publish` never rejects
 * unhandled (the adapter does not await it, and an outage made triage exit). A dashboard event
 * that cannot cross to other replicas is dropped with a warning: dashboards reload when Redis is back.
 */
export function publishingSafely(client: Redis, logger: FastifyBaseLogger): Redis {
  let warned = false;
  client.on('ready', () => (warned = false));
  return new Proxy(client, {
    get(target, property) {
      if (property === 'publish') {
        return (...args: Parameters<Redis['publish']>) =>
          target.publish(...args).catch((error: unknown) => {
            if (!warned) {
              warned = true;
              logger.warn(
                { err: { message: error instanceof Error ? error.message : String(error) } },
                'live updates are not reaching other replicas while Redis is down',
              );
            }
            return 0;
          });
      }
      const value: unknown = Reflect.get(target, property, target);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
