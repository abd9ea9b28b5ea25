import type { Server, Socket } from 'socket.io';
import type { ClientToServerEvents, ServerToClientEvents } from '@gpc/contracts';
import type { CallSession } from './call-session';

/** What the handshake settled about a connection: the call it is in, and for whom it speaks. */
export interface SocketData {
  session: CallSession;
  participantId: string;
  /** A member of staff's id (the token's `sub`), whatever kind of token they came with; absent for patients and guests. */
  staffId?: string;
  /** A link's device: the key it rejoins with as the link's holder (given back in its join's answer). */
  holderKey?: string;
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
