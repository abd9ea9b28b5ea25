import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyInstance } from 'fastify';
import type { FastifyBaseLogger } from 'fastify';
import { Server as SocketServer, type ServerOptions } from 'socket.io';

export interface MediaStatus {
  /** Live mediasoup workers. */
  workers: number;
}

export interface SignallingAppDeps {
  media: { status(): MediaStatus };
  logger?: FastifyBaseLogger;
  /** e.g. the Redis adapter, so events reach sockets on other call nodes. */
  socketOptions?: Partial<ServerOptions>;
}

export interface SignallingApp {
  http: FastifyInstance;
  io: SocketServer;
  close(): Promise<void>;
}

const Health = Type.Object({ status: Type.Literal('ok'), mediaWorkers: Type.Integer({ minimum: 1 }) });
const Unavailable = Type.Object({ code: Type.Literal('unavailable'), message: Type.String() });

/**
 * The call node's network face: fastify for health, socket.io on the same HTTP server for call
 * signalling. Never listens by itself.
 */
export function buildSignallingApp(deps: SignallingAppDeps): SignallingApp {
  const http = Fastify({ loggerInstance: deps.logger }).withTypeProvider<TypeBoxTypeProvider>();
  const io = new SocketServer(http.server, { serveClient: false, ...deps.socketOptions });

  http.get(
    '/health',
    { schema: { response: { 200: Health, 503: Unavailable } } },
    async (_request, reply) => {
      const { workers } = deps.media.status();
      if (workers < 1)
        return reply.code(503).send({ code: 'unavailable' as const, message: 'no live media worker' });
      return { status: 'ok' as const, mediaWorkers: workers };
    },
  );

  let closed: Promise<void> | undefined;
  return {
    http,
    io,
    close: () =>
      (closed ??= (async () => {
        await io.close();
        await http.close();
      })()),
  };
}
