// A member of staff whose access was taken away or changed (stopped, demoted, reset; triage
// announces it on Redis) leaves every call on this node at once, and the token they held is
// refused if they come back with it. Whatever Redis does, a member of staff's call socket lasts no
// longer than the token it came with: the fallback while a revocation cannot cross nodes.
import type { FastifyBaseLogger } from 'fastify';
import type { Redis } from 'ioredis';
import { msUntilExpiry, parseStaffRevoked, RevokedStaff, StaffRevocation, tokenTimes } from '@gpc/contracts';
import type { CallServer } from './calls/call-socket';

export interface StaffRevocationWatch {
  /** The revocations this node has heard of (and the handshake refuses tokens by). */
  revoked: RevokedStaff;
  /** Stops listening (the subscriber client is the caller's to disconnect). */
  close(): void;
}

/** The token the handshake came with (already verified by the call handshake). */
function handshakeToken(auth: unknown): string {
  const token = (auth as { token?: unknown } | undefined)?.token;
  return typeof token === 'string' ? token : '';
}

/** Closes every socket on this node of the member of staff whose token predates their revocation. */
function disconnectStaff(io: CallServer, revoked: RevokedStaff, staffId: string): number {
  let closed = 0;
  for (const socket of io.of('/').sockets.values()) {
    if (socket.data.staffId !== staffId) continue;
    // a revocation read again after an outage leaves a session begun since (a new token) alone
    if (!revoked.refuses(staffId, tokenTimes(handshakeToken(socket.handshake.auth)))) continue;
    socket.disconnect(true);
    closed += 1;
  }
  return closed;
}

/**
 * Subscribes `subscriber` (a client of its own, in subscriber mode from now on) to the staff
 * revocations channel, refuses at the handshake a member of staff's token issued before their
 * revocation, and closes each staff socket when its token expires. Registered after the call
 * handshake, which sets `socket.data.staffId` for members of staff. With `reader` (a client not in
 * subscriber mode), each time Redis is back it reads the revocations announced within
 * `StaffRevocation.rememberMs` (`StaffRevocation.recentKey`), so one sent while this node was cut
 * off still closes the sockets it should.
 */
export function watchStaffRevocations(
  io: CallServer,
  subscriber: Redis,
  logger: FastifyBaseLogger,
  reader?: Redis,
): StaffRevocationWatch {
  const revoked = new RevokedStaff();
  io.use((socket, next) => {
    const { staffId } = socket.data;
    if (staffId === undefined) return next();
    if (!revoked.refuses(staffId, tokenTimes(handshakeToken(socket.handshake.auth)))) return next();
    next(Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized' } }));
  });
  io.on('connection', (socket) => {
    if (socket.data.staffId === undefined) return;
    const { expiresAt } = tokenTimes(handshakeToken(socket.handshake.auth));
    if (expiresAt === undefined) return;
    const expiry = setTimeout(() => socket.disconnect(true), msUntilExpiry(expiresAt));
    socket.on('disconnect', () => clearTimeout(expiry));
  });

  const apply = (text: string) => {
    const message = parseStaffRevoked(text);
    if (!message) return;
    revoked.add(message);
    const closed = disconnectStaff(io, revoked, message.staffId);
    if (closed > 0)
      logger.info({ staffId: message.staffId, closed }, 'staff access revoked: their calls here closed');
  };
  const onMessage = (channel: string, text: string) => {
    if (channel === StaffRevocation.channel) apply(text);
  };
  subscriber.on('message', onMessage);
  // back from an outage (or a first connection): what was announced meanwhile, read from the
  // recent set through a client not in subscriber mode (whichever of the two is ready last reads it)
  const catchUp = () => {
    if (!reader || reader.status !== 'ready' || subscriber.status !== 'ready') return;
    reader
      .zrangebyscore(StaffRevocation.recentKey, Date.now() - StaffRevocation.rememberMs, '+inf')
      .then((messages) => messages.forEach(apply))
      .catch((error: unknown) => logger.warn({ err: error }, 'could not read recent staff revocations'));
  };
  subscriber.on('ready', catchUp);
  reader?.on('ready', catchUp);
  // asked for while Redis is away, it is sent when it answers, and again after each reconnect
  subscriber.subscribe(StaffRevocation.channel).catch((error: unknown) => {
    logger.error({ err: error }, 'could not subscribe to staff revocations: calls close when tokens expire');
  });
  catchUp();
  return {
    revoked,
    close: () => {
      subscriber.off('message', onMessage);
      subscriber.off('ready', catchUp);
      reader?.off('ready', catchUp);
    },
  };
}
