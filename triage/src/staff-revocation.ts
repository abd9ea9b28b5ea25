import type { FastifyInstance } from 'fastify';
import type { Redis } from 'ioredis';
import {
  AppError,
  parseStaffRevoked,
  RevokedStaff,
  StaffRevocation,
  tokenTimes,
  type StaffRevoked,
} from '@gpc/contracts';
import { withRedis } from './redis';

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * A member of staff's access was taken away or changed (stopped, demoted, password or MFA reset,
     * a refresh-token family revoked for reuse): their dashboards and calls on every node close now,
     * and the tokens they held are refused at the next handshake. Call it after the change is
     * committed. Never rejects: with Redis down, the other nodes close them when their tokens expire.
     */
    announceStaffRevoked(staffId: string): Promise<void>;
  }
}

/** How revocations travel between nodes (Redis pub/sub on `StaffRevocation.channel`). */
export interface StaffRevocationLink {
  /** Sends the message to every triage and call node; may reject while Redis is down. */
  publish(message: string): Promise<unknown>;
  /** Calls back with each message on the channel, this node's own included. */
  subscribe(listener: (message: string) => void): void;
}

/**
 * The link over Redis: `publisher` fails fast while Redis is down (an admin's change never waits
 * for it); `subscriber` is a client of its own, in subscriber mode from now on, which ioredis
 * subscribes again after each reconnect. Each message is also kept in `StaffRevocation.recentKey`
 * for nodes coming back to Redis (this one included: it reads the set each time both clients are
 * back); one that could not be sent is sent again once Redis is back (while this process lives: the
 * access token's lifetime stays the fallback).
 */
export function redisRevocationLink(publisher: Redis, subscriber: Redis): StaffRevocationLink {
  const send = (message: string) =>
    withRedis(publisher, () => {
      const at = parseStaffRevoked(message)?.at ?? Date.now();
      return publisher
        .multi()
        .zadd(StaffRevocation.recentKey, at, message)
        .zremrangebyscore(StaffRevocation.recentKey, '-inf', Date.now() - StaffRevocation.rememberMs)
        .pexpire(StaffRevocation.recentKey, StaffRevocation.rememberMs)
        .publish(StaffRevocation.channel, message)
        .exec();
    });
  let unsent: string[] = [];
  const listeners: ((message: string) => void)[] = [];
  // each revocation once, whether it comes by the channel, from the recent set, or both
  const delivered = new Map<string, number>();
  const deliver = (message: string) => {
    const now = Date.now();
    for (const [seen, at] of delivered) if (at < now - StaffRevocation.rememberMs) delivered.delete(seen);
    if (delivered.has(message)) return;
    delivered.set(message, now);
    for (const listener of listeners) listener(message);
  };
  // back from an outage (or a first connection): both clients ready, so a publish reaches this node
  // again; what is owed is sent again, and what other nodes announced meanwhile (this node heard
  // nothing while cut off) is read from the recent set and applied here, as call nodes do
  const onBothReady = () => {
    if (publisher.status !== 'ready' || subscriber.status !== 'ready') return;
    const again = unsent.filter(
      (message) => (parseStaffRevoked(message)?.at ?? 0) > Date.now() - StaffRevocation.rememberMs,
    );
    unsent = [];
    for (const message of again) send(message).catch(() => unsent.push(message));
    if (listeners.length === 0) return;
    publisher
      .zrangebyscore(StaffRevocation.recentKey, Date.now() - StaffRevocation.rememberMs, '+inf')
      .then((messages) => messages.forEach(deliver))
      .catch(() => undefined);
  };
  publisher.on('ready', onBothReady);
  subscriber.on('ready', onBothReady);
  return {
    publish: async (message) => {
      try {
        return await send(message);
      } catch (error) {
        if (unsent.length < 10_000) unsent.push(message);
        throw error;
      }
    },
    subscribe: (listener) => {
      if (listeners.push(listener) === 1)
        subscriber.on('message', (channel: string, message: string) => {
          if (channel === StaffRevocation.channel) deliver(message);
        });
      // asked once the client is ready: a SUBSCRIBE sent between its connecting and its ready check
      // puts the connection in subscriber mode under that check, which fails ("Connection in
      // subscriber mode") and costs a reconnect; ioredis subscribes again after later reconnects
      const subscribe = () => void subscriber.subscribe(StaffRevocation.channel).catch(() => undefined);
      if (subscriber.status === 'ready') subscribe();
      else subscriber.once('ready', subscribe);
    },
  };
}

/**
 * Decorates the app with `announceStaffRevoked`: it closes this node's sockets of the member at
 * once (whether or not Redis answers), then tells every other node; revocations heard from other
 * nodes close their sockets here. `revoked` is what the dashboards' handshake consults.
 */
export function registerStaffRevocation(
  app: FastifyInstance,
  revoked: RevokedStaff,
  closeSocketsOf: (staffId: string) => void,
  link: StaffRevocationLink | undefined,
): void {
  const apply = (message: StaffRevoked) => {
    revoked.add(message);
    closeSocketsOf(message.staffId);
  };
  link?.subscribe((text) => {
    const message = parseStaffRevoked(text);
    if (message) apply(message);
  });
  // the REST side too: an access token issued before its member's revocation is refused at once,
  // not only when it expires (else a stopped clinician could still fetch a host token and rejoin)
  app.addHook('onRequest', (request, _reply, done) => {
    const token = /^Bearer (\S+)$/.exec(request.headers.authorization ?? '')?.[1];
    const sub = token ? subjectOf(token) : undefined;
    if (sub !== undefined && revoked.refuses(sub, tokenTimes(token!)))
      return done(new AppError('unauthorized', 'sign in again: your access has changed'));
    done();
  });
  app.decorate('announceStaffRevoked', async (staffId: string) => {
    const message: StaffRevoked = { staffId, at: Date.now() };
    apply(message);
    try {
      await link?.publish(JSON.stringify(message));
    } catch (error) {
      app.log.warn(
        { staffId, err: { message: error instanceof Error ? error.message : String(error) } },
        'a staff revocation did not reach other nodes (Redis down): it is sent again when Redis is back, and their sockets close when their tokens expire',
      );
    }
  });
}

/**
 * The `sub` a bearer token names, read without verifying it: enough to refuse a revoked member's
 * token (a forged one naming them is refused all the same); never to let anything in.
 */
function subjectOf(token: string): string | undefined {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      sub?: unknown;
    };
    return typeof payload.sub === 'string' ? payload.sub : undefined;
  } catch {
    return undefined;
  }
}

export { RevokedStaff, StaffRevocation };
