// socket.io clients of a call node for tests: connect with a handshake's auth, ask with an ack,
// wait for an event. Every socket opened here is closed by closeAll().
import assert from 'node:assert/strict';
import { io as connect, type Socket } from 'socket.io-client';
import type { Ack, ClientResults } from '@gpc/contracts';
import type { CallNode } from './call-node';

/** Emits an event and resolves with its ack. */
export function request<E extends keyof ClientResults>(
  socket: Socket,
  event: E,
  payload: unknown,
): Promise<Ack<ClientResults[E]>> {
  return socket.timeout(5000).emitWithAck(event, payload) as Promise<Ack<ClientResults[E]>>;
}

/** Emits an event and resolves with its data, failing the test on a refusal. */
export async function ok<E extends keyof ClientResults>(
  socket: Socket,
  event: E,
  payload: unknown,
): Promise<ClientResults[E]> {
  const result = await request(socket, event, payload);
  assert.ok(result.ok, `${event}: ${JSON.stringify(result)}`);
  return result.data;
}

export function errorCode(result: Ack<unknown>): string | undefined {
  return result.ok ? undefined : result.error.code;
}

/** The next arrival of a server event on a client socket. */
export function nextEvent<T extends unknown[] = unknown[]>(socket: Socket, event: string): Promise<T> {
  return new Promise((resolve) => socket.once(event, (...args: unknown[]) => resolve(args as T)));
}

/** A handshake the server refused: its code (the error's message) and the words it gave. */
export class Refused extends Error {
  constructor(
    readonly code: string,
    readonly data: { code?: string; message?: string } | undefined,
  ) {
    super(`${code}: ${data?.message ?? ''}`);
  }
}

export class CallSockets {
  private readonly sockets: Socket[] = [];

  /** A socket on `node` (not yet connected: see `connected`). */
  open(node: Pick<CallNode, 'url'>, auth: Record<string, unknown>): Socket {
    const socket = connect(node.url, {
      auth,
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    this.sockets.push(socket);
    return socket;
  }

  /** Resolves when connected; rejects with a `Refused` carrying the server's code and message. */
  async connect(node: Pick<CallNode, 'url'>, auth: Record<string, unknown>): Promise<Socket> {
    const socket = this.open(node, auth);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', (error: Error & { data?: { code?: string; message?: string } }) =>
        reject(new Refused(error.message, error.data)),
      );
    });
    return socket;
  }

  closeAll(): void {
    for (const socket of this.sockets) socket.disconnect();
  }
}
