import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { WriteBackQueue } from './queue';
import { createServiceMetrics, registerMetrics } from '@gpc/contracts/metrics';
import { databaseAndRedisWords, NotReady, notReadyMessage, type ReadinessDependency } from '@gpc/contracts';
import { registerRecordMetrics } from './metrics';

export interface RecordAppDeps {
  queue: WriteBackQueue;
  pool: pg.Pool;
  logger?: FastifyBaseLogger;
  /** Serves `GET /metrics` to a scrape bearing this token (RECORD_METRICS_TOKEN); not served without it. */
  metricsToken?: string;
}

const Health = Type.Object({
  status: Type.Literal('ok'),
  redis: Type.Literal('ok'),
  database: Type.Literal('ok'),
  jobs: Type.Object({
    waiting: Type.Integer(),
    active: Type.Integer(),
    delayed: Type.Integer(),
    failed: Type.Integer(),
  }),
});
const Unavailable = Type.Object({ code: Type.Literal('unavailable'), message: Type.String() });
const Live = Type.Object({ status: Type.Literal('live') });
const Ready = Type.Object({
  status: Type.Literal('ready'),
  database: Type.Literal('ok'),
  redis: Type.Literal('ok'),
});

/** A probe must answer within its own timeout: a dependency that does not answer in time is down. */
const PROBE_TIMEOUT_MS = 1500;

async function answers(check: () => Promise<unknown>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), PROBE_TIMEOUT_MS)));
  try {
    return await Promise.race([
      check().then(
        () => true,
        () => false,
      ),
      late,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Ready while PostgreSQL and Redis both answer; 503 naming those that do not. The process stays up
 * meanwhile (write-backs wait in the outbox): `/health` keeps its meaning (both answer, and the queue
 * depth) for the dashboards and scripts that read it.
 */
function registerReadiness(app: FastifyInstance, deps: RecordAppDeps): void {
  app
    .withTypeProvider<TypeBoxTypeProvider>()
    .get(
      '/readyz',
      { logLevel: 'warn', schema: { response: { 200: Ready, 503: NotReady } } },
      async (_request, reply) => {
        const client = deps.queue.client;
        const [database, redis] = await Promise.all([
          answers(() => deps.pool.query('select 1')),
          client.status === 'ready' ? answers(() => client.ping()) : Promise.resolve(false),
        ]);
        // what the worker needs to file: PostgreSQL (the outbox) and Redis (the queue)
        const down: ReadinessDependency[] = [];
        if (!database) down.push('database');
        if (!redis) down.push('redis');
        if (down.length > 0) {
          const message = notReadyMessage(down, databaseAndRedisWords);
          return reply.code(503).send({ code: 'unavailable' as const, message, down });
        }
        return { status: 'ready' as const, database: 'ok' as const, redis: 'ok' as const };
      },
    );
}

/** The record worker's HTTP face: health and queue depth for operators. Never listens by itself. */
export function buildRecordApp(deps: RecordAppDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger }).withTypeProvider<TypeBoxTypeProvider>();
  const metrics = createServiceMetrics('record', Boolean(deps.metricsToken));
  registerMetrics(app, metrics, deps.metricsToken);
  registerRecordMetrics(metrics.registry, deps.queue, deps.pool);
  // liveness for orchestrators: the process answers. Never PostgreSQL or Redis: while they are away
  // the worker is not ready (`/readyz`) and its write-backs wait in the outbox; a restart mends nothing
  app.get('/healthz', { logLevel: 'warn', schema: { response: { 200: Live } } }, () => ({
    status: 'live' as const,
  }));
  // probes poll this every few seconds: their requests are not worth a log line each
  app.get(
    '/health',
    { logLevel: 'warn', schema: { response: { 200: Health, 503: Unavailable } } },
    async (_request, reply) => {
      try {
        await deps.pool.query('select 1');
        await deps.queue.client.ping();
        const counts = await deps.queue.getJobCounts();
        return { status: 'ok' as const, redis: 'ok' as const, database: 'ok' as const, jobs: counts };
      } catch {
        return reply
          .code(503)
          .send({ code: 'unavailable' as const, message: 'Redis or PostgreSQL is not answering' });
      }
    },
  );
  registerReadiness(app, deps);
  return app;
}
