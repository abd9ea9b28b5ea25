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
   * without it: the sockets connected meanwhile keep their rooms.
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
      (socket.data as { practiceId?: string }).practiceId = claims.practiceId;
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
      // the new adapter knows no rooms yet: each socket joins its own and its practice's again
      for (const socket of staff.sockets.values()) {
        const { practiceId } = socket.data as { practiceId?: string };
        void socket.join(practiceId ? [socket.id, StaffLive.room(practiceId)] : [socket.id]);
      }
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
