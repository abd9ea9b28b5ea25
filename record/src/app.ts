import Fastify, { type FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import type { FastifyBaseLogger } from 'fastify';
import type { WriteBackQueue } from './queue';

export interface RecordAppDeps {
  queue: WriteBackQueue;
  pool: pg.Pool;
  logger?: FastifyBaseLogger;
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

/** The record worker's HTTP face: health and queue depth for operators. Never listens by itself. */
export function buildRecordApp(deps: RecordAppDeps): FastifyInstance {
  const app = Fastify({ loggerInstance: deps.logger }).withTypeProvider<TypeBoxTypeProvider>();
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
  return app;
}
