// Prometheus metrics, the same way on every service: one registry per app (tests build several in
// one process), HTTP latency labelled by the route's pattern (never the URL: ids and patients'
// data stay out of labels), and `GET /metrics` served only with a bearer token from config.
import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { Type } from '@sinclair/typebox';
import { collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * `<PREFIX>_METRICS_TOKEN`: the bearer token a Prometheus scrape of `GET /metrics` carries. Without
 * it `/metrics` is not served at all (404): the service's port faces the internet. Make it long and
 * random (`openssl rand -hex 32`).
 */
export const MetricsConfigFields = {
  metricsToken: Type.Optional(Type.String({ minLength: 8 })),
};

export interface ServiceMetrics {
  registry: Registry;
  httpDuration: Histogram<'method' | 'route' | 'status_code'>;
}

/**
 * A service's registry: the HTTP latency histogram and, when it is scraped (`served`), the process
 * metrics, whose event-loop and GC observers are not worth running in an app nobody scrapes.
 */
export function createServiceMetrics(service: string, served: boolean): ServiceMetrics {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  if (served) collectDefaultMetrics({ register: registry });
  const httpDuration = new Histogram({
    name: 'gpc_http_request_duration_seconds',
    help: 'HTTP request latency by route pattern, method and status',
    labelNames: ['method', 'route', 'status_code'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  return { registry, httpDuration };
}

/** A gauge read at scrape time (queue depths, rooms): `read` sets it, a failed read leaves it unset. */
export function scrapeGauge<L extends string>(
  registry: Registry,
  name: string,
  help: string,
  labelNames: readonly L[],
  read: (gauge: Gauge<L>) => Promise<void> | void,
): Gauge<L> {
  return new Gauge<L>({
    name,
    help,
    labelNames,
    registers: [registry],
    async collect() {
      this.reset();
      try {
        await read(this);
      } catch {
        // the dependency is down: the series goes missing rather than the whole scrape failing
      }
    },
  });
}

/** What a bull queue tells a scrape: its jobs by state. */
export interface CountedQueue {
  getJobCounts(): Promise<Record<'waiting' | 'active' | 'completed' | 'failed' | 'delayed', number>>;
}

/**
 * `gpc_queue_jobs{queue,state}`: each queue's jobs by state, read from Redis at scrape time. The
 * completed and failed counts are the job outcomes bull keeps (as many as its removal settings leave).
 */
export function queueJobsGauge(registry: Registry, queues: Record<string, CountedQueue | undefined>): void {
  scrapeGauge(registry, 'gpc_queue_jobs', 'Jobs on a queue by state', ['queue', 'state'], async (gauge) => {
    for (const [queue, bull] of Object.entries(queues)) {
      if (!bull) continue;
      for (const [state, count] of Object.entries(await bull.getJobCounts()))
        gauge.set({ queue, state }, count);
    }
  });
}

/** True when `authorization` is `Bearer <token>`; compared in constant time. */
export function metricsAuthorised(authorization: string | undefined, token: string): boolean {
  const presented = /^Bearer (.+)$/.exec(authorization ?? '')?.[1];
  if (!presented) return false;
  const digest = (value: string) => createHash('sha256').update(value).digest();
  return timingSafeEqual(digest(presented), digest(token));
}

/** The text a scrape gets, if authorised; for services not on fastify (web's static server). */
export async function scrape(
  metrics: ServiceMetrics,
  authorization: string | undefined,
  token: string,
): Promise<{ status: 200; contentType: string; body: string } | { status: 401; body: string }> {
  if (!metricsAuthorised(authorization, token))
    return {
      status: 401,
      body: JSON.stringify({ code: 'unauthorized', message: 'A metrics scrape needs its bearer token' }),
    };
  return { status: 200, contentType: metrics.registry.contentType, body: await metrics.registry.metrics() };
}

/**
 * Times every request by its route's pattern (`/consultations/:id`, or `unmatched` for a 404) and,
 * with a token, serves `GET /metrics`. Register before the routes.
 */
export function registerMetrics(
  app: FastifyInstance,
  metrics: ServiceMetrics,
  token: string | undefined,
): void {
  app.addHook('onResponse', async (request, reply) => {
    metrics.httpDuration.observe(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status_code: String(reply.statusCode),
      },
      reply.elapsedTime / 1000,
    );
  });
  if (!token) return;
  app.get('/metrics', { logLevel: 'warn', schema: { hide: true } }, async (request, reply) => {
    const answer = await scrape(metrics, request.headers.authorization, token);
    if (answer.status === 401)
      return reply.code(401).header('content-type', 'application/json').send(answer.body);
    return reply.header('content-type', answer.contentType).send(answer.body);
  });
}
