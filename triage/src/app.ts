import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type pg from 'pg';
import { registerErrorHandling } from './errors';

export interface TriageAppDeps {
  pool: pg.Pool;
  logger?: FastifyBaseLogger;
}

const Health = Type.Object({ status: Type.Literal('ok'), database: Type.Literal('ok') });
const Unavailable = Type.Object({ code: Type.Literal('unavailable'), message: Type.String() });

/** The triage REST API, built from its dependencies; never listens (server.ts does). */
export async function buildTriageApp(deps: TriageAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : {}),
    // unknown body fields are refused rather than silently dropped
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, allErrors: false } },
    bodyLimit: 1024 * 1024,
  }).withTypeProvider<TypeBoxTypeProvider>();

  await app.register(helmet);
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'GP Consult triage API',
        version: '0.1.0',
        description: 'Online consultations for GP practices',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerErrorHandling(app);

  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());

  app.get(
    '/health',
    {
      schema: { summary: 'Liveness and database reachability', response: { 200: Health, 503: Unavailable } },
    },
    async (_request, reply) => {
      try {
        await deps.pool.query('SELECT 1');
        return { status: 'ok' as const, database: 'ok' as const };
      } catch {
        return reply
          .code(503)
          .send({ code: 'unavailable' as const, message: 'The database is not answering' });
      }
    },
  );

  return app;
}
