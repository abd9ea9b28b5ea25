import { AppError, ErrorCodes, type ErrorCode } from '@gpc/contracts';
import type { FastifyError, FastifyInstance } from 'fastify';
import { isDatabaseUnavailable } from './db/unavailable';

/** The body of every error answer: a stable code and a message fit to show. */
export { ErrorBody } from '@gpc/contracts';

/** What a client is told when PostgreSQL cannot be reached: retry, nothing is wrong with the request. */
export const databaseUnavailableMessage =
  'The service cannot reach its database just now. Please try again in a minute.';

/**
 * Translates errors at the HTTP edge: AppError to its status and code, validation failures to
 * 400, the database being unreachable to a 503 (try again), anything else to a 500 that reveals nothing of the internals (the log has the detail).
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | AppError | Error, request, reply) => {
    if (error instanceof AppError) {
      return reply.code(error.httpStatus).send({ code: error.code, message: error.message });
    }
    const fastifyError = error as FastifyError;
    if (fastifyError.validation) {
      return reply.code(400).send({ code: 'badRequest', message: fastifyError.message });
    }
    const status = fastifyError.statusCode ?? 500;
    if (status >= 400 && status < 500) {
      // fastify's and its plugins' own refusals (a rate limit, a body too large) in our codes, not theirs
      const code =
        (Object.keys(ErrorCodes) as ErrorCode[]).find((name) => ErrorCodes[name] === status) ?? 'badRequest';
      return reply.code(status).send({ code, message: fastifyError.message });
    }
    if (isDatabaseUnavailable(error)) {
      // PostgreSQL restarting or failing over: the client should retry, not report a fault
      request.log.warn({ err: error }, 'database unavailable');
      return reply
        .code(503)
        .header('retry-after', '5')
        .send({ code: 'unavailable', message: databaseUnavailableMessage });
    }
    request.log.error({ err: error }, 'unhandled error');
    return reply.code(500).send({ code: 'internal', message: 'Internal error' });
  });
  app.setNotFoundHandler((request, reply) =>
    reply
      .code(404)
      .send({ code: 'notFound', message: `No route ${request.method} ${request.url.split('?')[0]}` }),
  );
}
