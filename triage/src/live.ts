import type { Server as HttpServer } from 'node:http';
import { Server, type ServerOptions } from 'socket.io';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  StaffLive,
  StaffTokenClaims,
  type QueueChange,
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
  close(): Promise<void>;
}

const checkClaims = TypeCompiler.Compile(StaffTokenClaims);
export const staffLivePath = StaffLive.path;

/**
 * Live queue updates for staff over socket.io (its own path, beside signalling's). Each socket
 * joins its practice's room only, from its verified access token; with the Redis adapter a change
 * made through any triage replica reaches every dashboard of that practice.
 */
export function createStaffLive(
  httpServer: HttpServer,
  verify: (token: string) => unknown,
  options: Partial<ServerOptions> = {},
): StaffLive {
  const io = new Server<Record<string, never>, StaffLiveServerToClientEvents>(httpServer, {
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
      void socket.join(StaffLive.room(claims.practiceId));
      next();
    } catch {
      next(Object.assign(new Error('unauthorized'), { data: { code: 'unauthorized' } }));
    }
  });
  return {
    notify: (practiceId, change) => void staff.to(StaffLive.room(practiceId)).emit('queue:changed', change),
    useAdapter: (adapter) => {
      io.adapter(adapter);
      // a socket keeps the adapter it joined its rooms with: those connected meanwhile reconnect
      staff.disconnectSockets();
    },
    resync: () => void staff.disconnectSockets(),
    // the HTTP server belongs to fastify, which closes it: only let go of the sockets here
    close: () => {
      io.disconnectSockets(true);
      io.engine.close();
      return Promise.resolve();
    },
  };
}
