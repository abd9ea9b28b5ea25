import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions, type Socket } from 'socket.io';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  msUntilExpiry,
  StaffLive,
  StaffTokenClaims,
  type ErrorCode,
  tokenTimes,
  type QueueChange,
  type RevokedStaff,
  type StaffLiveClientPayloads,
  type StaffLiveServerToClientEvents,
} from '@gpc/contracts';

export type { QueueChange };

export interface StaffLive {
  notify(practiceId: string, change: QueueChange): void;
  /**
   * Takes the adapter that reaches other replicas (Redis) once it is up, when triage started
   * without it: the dashboards connected meanwhile are asked to reconnect onto it (and reload).
   */
  useAdapter(adapter: NonNullable<ServerOptions['adapter']>): void;
  /** Asks every dashboard connected here to reconnect, and so reload what it missed (Redis was down). */
  resync(): void;
  /**
   * Closes this member of staff's dashboards connected here (their access was revoked or changed)
   * whose token predates the revocation.
   */
  disconnectStaff(staffId: string): void;
  close(): Promise<void>;
}

const checkClaims = TypeCompiler.Compile(StaffTokenClaims);

type NoEvents<T extends Record<string, never>> = T;
/** The client events the feed handles: none, as the contract says; one added there stops this compiling until handled. */
export type StaffLiveClientEvents = NoEvents<typeof StaffLiveClientPayloads>;

/**
 * Dashboards send nothing over the feed (`StaffLiveClientPayloads` is empty): an event that asks for
 * an answer is refused, coded like every socket refusal; the rest are ignored. Never throws.
 */
function refuseClientEvents(socket: Socket): void {
  socket.onAny((event: unknown, ...args: unknown[]) => {
    const ack = args.at(-1);
    if (typeof ack !== 'function') return;
    const name = typeof event === 'string' ? event.slice(0, 100) : typeof event;
    (ack as (answer: { ok: false; error: { code: ErrorCode; message: string } }) => void)({
      ok: false,
      error: { code: 'badRequest', message: `the live feed takes no events (${name})` },
    });
  });
}
export const staffLivePath = StaffLive.path;

/** What the handshake settled about a dashboard's connection: whose it is, and when its token runs out. */
interface StaffSocketData {
  staffId: string;
  /** The access token's `exp` (seconds): the connection closes then, and the client renews. */
  expiresAt?: number;
}

/**
 * Live queue updates for staff over socket.io (its own path, beside signalling's). Each socket
 * joins its practice's room only, from its verified access token; with the Redis adapter a change
 * made through any triage replica reaches every dashboard of that practice. A socket lasts no longer
 * than its token (so a revocation Redis could not carry still ends it within the token's lifetime),
 * and a token issued before its member's revocation (`revoked`) is refused.
 */
export function createStaffLive(
  httpServer: HttpServer,
  verify: (token: string) => unknown,
  options: Partial<ServerOptions> = {},
  revoked?: RevokedStaff,
): StaffLive {
  const io = new Server<
    Record<string, never>,
    StaffLiveServerToClientEvents,
    Record<string, never>,
    StaffSocketData
  >(httpServer, {
    path: staffLivePath,
    serveClient: false,
    ...options,
  });
  const staff = io.of(StaffLive.namespace);
  staff.use((socket, next) => {
    try {
      const token = (socket.handshake.auth as { token?: unknown }).token;
      const {
        iat: _iat,
        exp: _exp,
        ...claims
      } = verify(typeof token === 'string' ? token : '') as Record<string, unknown>;
      if (!checkClaims.Check(claims)) throw new Error('not a staff token');
      const times = tokenTimes(token as string);
      const { expiresAt } = times;
      if (revoked?.refuses(claims.sub, times)) throw new Error('revoked');
      socket.data = { staffId: claims.sub, ...(expiresAt === undefined ? {} : { expiresAt }) };
      void socket.join(StaffLive.room(claims.practiceId));
      next();
    } catch {
      next(Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized' } }));
    }
  });
  staff.on('connection', (socket) => {
    refuseClientEvents(socket);
    const { expiresAt } = socket.data;
    if (expiresAt === undefined) return;
    // the client renews its token and reconnects ('io server disconnect')
    const expiry = setTimeout(() => socket.disconnect(true), msUntilExpiry(expiresAt));
    socket.on('disconnect', () => clearTimeout(expiry));
  });
  return {
    notify: (practiceId, change) => void staff.to(StaffLive.room(practiceId)).emit('queue:changed', change),
    useAdapter: (adapter) => {
      io.adapter(adapter);
      // a socket keeps the adapter it joined its rooms with: those connected meanwhile reconnect
      staff.disconnectSockets();
    },
    resync: () => void staff.disconnectSockets(),
    disconnectStaff: (staffId) => {
      for (const socket of staff.sockets.values()) {
        if (socket.data.staffId !== staffId) continue;
        // a revocation heard late (sent again once Redis was back) leaves a session begun since alone
        const token = (socket.handshake.auth as { token?: unknown }).token;
        if (revoked && !revoked.refuses(staffId, tokenTimes(typeof token === 'string' ? token : '')))
          continue;
        socket.disconnect(true);
      }
    },
    // the HTTP server belongs to fastify, which closes it: only let go of the sockets here
    close: () => {
      io.disconnectSockets(true);
      io.engine.close();
      return Promise.resolve();
    },
  };
}
