import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '@gpc/contracts';
import type { CallSession } from './call-session';

/** What the handshake settled about a connection: the call it is in, and for whom it speaks. */
export interface SocketData {
  session: CallSession;
  participantId: string;
}

export type CallServer = Server<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;

export type CallSocket = Socket<
  ClientToServerEvents,
  ServerToClientEvents,
  Record<string, never>,
  SocketData
>;
