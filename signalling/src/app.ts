import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type, type Static } from '@sinclair/typebox';
import Fastify, { type FastifyBaseLogger, type FastifyError, type FastifyInstance } from 'fastify';
import { Server as SocketServer, type ServerOptions } from 'socket.io';
import { AppError, closeOnce, notReadyBody, notReadyMessage } from '@gpc/contracts';
import type { MediaWorkerPool } from '@gpc/media';
import type { TokenService } from './auth/tokens';
import type { Redis } from 'ioredis';
import { CallLinks } from './calls/call-links';
import { CallRegistry } from './calls/call-registry';
import { CallData, type CallEventSink } from './calls/call-data';
import type { CallServer } from './calls/call-socket';
import { registerCallHandlers } from './calls/socket-handlers';
import { iceServersFor, type TurnSettings } from './calls/turn-credentials';
import { createServiceMetrics, registerMetrics } from '@gpc/contracts/metrics';
import { registerCallNodeMetrics } from './metrics';

export interface SignallingAppDeps {
  media: MediaWorkerPool;
  /** Verifies the call tokens triage signs; the call node signs none. */
  tokens: TokenService;
  logger?: FastifyBaseLogger;
  /** e.g. the Redis adapter, so events reach sockets on other call nodes. */
  socketOptions?: Partial<ServerOptions>;
  /** True when the Redis behind `socketOptions.adapter` answers; absent when none is used. */
  redisAnswers?: () => Promise<boolean>;
  /** Redis for call links (holders, admissions, calls' ends): `connectCallLinkRedis`. */
  callLinkRedis: Redis;
  /** A call nobody is connected to for this long ends (SIGNALLING_CALL_IDLE_MINUTES). */
  callIdleSeconds: number;
  /**
   * How long a participant whose connection went silent keeps their seat and media, shown to the
   * others as reconnecting (SIGNALLING_RECONNECT_GRACE_SECONDS); 120 unless said.
   */
  reconnectGraceSeconds?: number;
  /** The TURN relay participants are given credentials for (SIGNALLING_TURN_*); none when absent. */
  turn?: TurnSettings;
  /** Where call events (call data) go: the outbox posting them to triage; nowhere when absent. */
  callEvents?: CallEventSink;
  /** Serves `GET /metrics` to a scrape bearing this token (SIGNALLING_METRICS_TOKEN); not served without it. */
  metricsToken?: string;
}

export interface SignallingApp {
  http: FastifyInstance;
  io: CallServer;
  calls: CallRegistry;
  close(): Promise<void>;
}

const Health = Type.Object({ status: Type.Literal('ok'), mediaWorkers: Type.Integer({ minimum: 1 }) });
const Unavailable = Type.Object({ code: Type.Literal('unavailable'), message: Type.String() });
/** What the call node needs to take new calls: a live media worker, and Redis for other nodes' events. */
const Dependency = Type.Union([Type.Literal('mediaWorkers'), Type.Literal('redis')]);
const Ready = Type.Object({
  status: Type.Literal('ready'),
  mediaWorkers: Type.Integer({ minimum: 1 }),
  redis: Type.Union([Type.Literal('ok'), Type.Literal('unused')]),
});
const NotReady = notReadyBody(Dependency);
const dependencyWords: Record<Static<typeof Dependency>, string> = {
  mediaWorkers: 'no live media worker',
  redis: 'Redis is not answering',
};

/** Every HTTP refusal as `{code, message}` with our error codes; faults logged, never shown. */
function answerWithErrorCodes(http: FastifyInstance): void {
  http.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    if (error instanceof AppError)
      return reply.code(error.httpStatus).send({ code: error.code, message: error.message });
    if (error.validation) return reply.code(400).send({ code: 'badRequest', message: error.message });
    const status = error.statusCode ?? 500;
    if (status < 500) return reply.code(status).send({ code: 'badRequest', message: error.message });
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ code: 'internal', message: 'Internal error' });
  });
}

/**
 * Healthy while at least one mediasoup worker lives: without one no call can have media. `/healthz`
 * (the orchestrators' liveness probe) answers the same: a node with no worker is worth restarting.
 */
function registerHealth(http: FastifyInstance, media: MediaWorkerPool): void {
  for (const url of ['/health', '/healthz'])
    http.withTypeProvider<TypeBoxTypeProvider>().get(
      url,
      // probes poll this every few seconds: their requests are not worth a log line each
      { logLevel: 'warn', schema: { response: { 200: Health, 503: Unavailable } } },
      async (_request, reply) => {
        const workers = media.workers.length;
        if (workers < 1)
          return reply.code(503).send({ code: 'unavailable' as const, message: 'no live media worker' });
        return { status: 'ok' as const, mediaWorkers: workers };
      },
    );
}

/**
 * Ready while every dependency answers; 503 naming those that do not. `/health` stays liveness of
 * the calls themselves (media workers): calls on this node go on while Redis is away.
 */
function registerReadiness(
  http: FastifyInstance,
  media: MediaWorkerPool,
  redisAnswers: (() => Promise<boolean>) | undefined,
): void {
  http
    .withTypeProvider<TypeBoxTypeProvider>()
    .get(
      '/readyz',
      { logLevel: 'warn', schema: { response: { 200: Ready, 503: NotReady } } },
      async (_request, reply) => {
        const workers = media.workers.length;
        const redis = redisAnswers ? await redisAnswers() : undefined;
        const down: Static<typeof Dependency>[] = [];
        if (workers < 1) down.push('mediaWorkers');
        if (redis === false) down.push('redis');
        if (down.length > 0) {
          const message = notReadyMessage(down, dependencyWords);
          return reply.code(503).send({ code: 'unavailable' as const, message, down });
        }
        return {
          status: 'ready' as const,
          mediaWorkers: workers,
          redis: redis ? ('ok' as const) : ('unused' as const),
        };
      },
    );
}

/**
 * The call node's network face: fastify for health and readiness, socket.io on the same HTTP
 * server for call signalling. Calls are made by triage; a call opens here on its first valid call
 * token. Never listens by itself.
 */
export function buildSignallingApp(deps: SignallingAppDeps): SignallingApp {
  const http = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : {}),
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();
  const io: CallServer = new SocketServer(http.server, {
    serveClient: false,
    // a vanished peer is noticed within pingInterval + pingTimeout (8 s), not socket.io's default 45 s
    pingInterval: 3000,
    pingTimeout: 5000,
    maxHttpBufferSize: 64 * 1024,
    ...deps.socketOptions,
  });
  const links = new CallLinks(deps.callLinkRedis, deps.callIdleSeconds * 1000);
  const callData = new CallData(deps.callEvents);
  const calls = new CallRegistry({
    io,
    media: deps.media,
    logger: http.log,
    links,
    callData,
    reconnectGraceMs: (deps.reconnectGraceSeconds ?? 120) * 1000,
  });

  answerWithErrorCodes(http);
  const metrics = createServiceMetrics('signalling', Boolean(deps.metricsToken));
  registerMetrics(http, metrics, deps.metricsToken);
  registerCallNodeMetrics(metrics.registry, calls, deps.media);
  registerHealth(http, deps.media);
  registerReadiness(http, deps.media, deps.redisAnswers);
  registerCallHandlers({
    io,
    calls,
    tokens: deps.tokens,
    logger: http.log,
    iceServers: (participantId) => iceServersFor(deps.turn, participantId),
  });

  return {
    http,
    io,
    calls,
    close: closeOnce(async () => {
      calls.close();
      await io.close();
      await http.close();
    }),
  };
}
