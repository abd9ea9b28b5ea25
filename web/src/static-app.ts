import { stat } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { createServiceMetrics, scrape, type ServiceMetrics } from '@gpc/contracts/metrics';
import { callNodeRoute, isRefused, type CallNodeDirectory } from './call-nodes';
import { EmbeddingOrigins } from './embedding';
import { commonSecurityHeaders, resourceContentSecurityPolicy } from './security-headers';
import { plain, serveBuildFile, type BuildFiles } from './static-files';

/**
 * The production web server: serves the built pages (`vite build` output, src/build.ts) with their
 * security headers, and passes `/api`, `/staff-live` and `/socket.io` to triage and
 * signalling as the development server does (vite.config.ts), and `/call-node/<id>/socket.io` to the
 * call node announced under that id (call-nodes.ts). A reverse proxy in front may terminate
 * TLS; `publicUrl` says whether patients reach us over https (HSTS, upgrade-insecure-requests).
 */
export interface StaticServerOptions {
  /** The build to serve (web/dist). */
  distDir: string;
  triageUrl: string;
  signallingUrl: string;
  /** The address patients and staff open, e.g. https://consult.example.nhs.uk. */
  publicUrl: string;
  /** Where presigned uploads go (the page PUTs files there): added to connect-src. */
  storageUrl?: string;
  /** Where the form page's frame-ancestors come from; by default triage's embedding endpoint. */
  embedding?: EmbeddingOrigins;
  /** The call nodes announced in Redis (WEB_REDIS_URL): `/call-node/<id>/socket.io` goes to its node. */
  callNodes?: CallNodeDirectory;
  /** Serves `GET /metrics` to a scrape bearing this token (WEB_METRICS_TOKEN); not served without it. */
  metricsToken?: string;
}

/** A request's route for its latency label: a fixed set, never the URL (no ids, no practice codes). */
function routeOf(pathname: string, options: StaticServerOptions): string {
  if (pathname === '/healthz' || pathname === '/readyz' || pathname === '/metrics') return pathname;
  if (proxyTarget(pathname, options) || callNodeRoute(pathname)) return `/${pathname.split('/')[1]}/*`;
  return pathname.startsWith('/assets/') ? '/assets/*' : 'page';
}

/** Paths passed on, and where to: the same as the development server's proxy. */
function proxyTarget(
  pathname: string,
  options: StaticServerOptions,
): { base: URL; path: string } | undefined {
  const under = (prefix: string) => pathname === prefix || pathname.startsWith(`${prefix}/`);
  // triage's routes live at its root; the pages call them under /api on their own origin
  if (under('/api')) return { base: new URL(options.triageUrl), path: pathname.slice('/api'.length) || '/' };
  if (under('/staff-live')) return { base: new URL(options.triageUrl), path: pathname };
  if (under('/socket.io')) return { base: new URL(options.signallingUrl), path: pathname };
  return undefined;
}

/**
 * Orchestrators' probes: `/healthz` while the process answers; `/readyz` while the build can be read
 * (a lost volume or a half-copied build is not ready). Neither depends on triage or signalling.
 */
async function probe(response: ServerResponse, pathname: string, distDir: string): Promise<void> {
  const ready =
    pathname === '/healthz' ||
    (await stat(path.join(distDir, 'index.html')).then(
      (found) => found.isFile(),
      () => false,
    ));
  response.writeHead(ready ? 200 : 503, {
    'content-type': 'application/json',
    'cache-control': 'no-store',
    'content-security-policy': resourceContentSecurityPolicy,
  });
  response.end(
    JSON.stringify(
      ready
        ? { status: pathname === '/healthz' ? 'live' : 'ready' }
        : { code: 'unavailable', message: 'the build cannot be read' },
    ),
  );
}

async function serveMetrics(
  response: ServerResponse,
  metrics: ServiceMetrics,
  authorization: string | undefined,
  token: string,
): Promise<void> {
  const answer = await scrape(metrics, authorization, token);
  response.writeHead(answer.status, {
    'content-type': answer.status === 200 ? answer.contentType : 'application/json',
    'cache-control': 'no-store',
    'content-security-policy': resourceContentSecurityPolicy,
  });
  response.end(answer.body);
}

/**
 * The announced address of the call node a `/call-node/<id>/socket.io` path names, or why not:
 * only ids a live node announced, only its socket.io, only to the address it announced.
 */
async function callNodeTarget(
  url: URL,
  nodes: CallNodeDirectory | undefined,
): Promise<
  { base: URL; path: string; unreachable: (error: unknown) => void } | { refused: number; text: string }
> {
  const route = callNodeRoute(url.pathname);
  const base = route && (await nodes?.internalUrl(route.nodeId));
  if (!route || !nodes || !base) return { refused: 404, text: 'Not found' };
  // nothing listens where it announced itself: its process is gone, its calls go elsewhere now
  const unreachable = (error: unknown) => {
    if (isRefused(error)) nodes.refused(route.nodeId);
  };
  return { base, path: route.path + url.search, unreachable };
}

/** The static server, built but not listening: `listen()` it, `close()` it. */
export function createStaticServer(options: StaticServerOptions): http.Server {
  const https = new URL(options.publicUrl).protocol === 'https:';
  const common = commonSecurityHeaders({ https });
  const build: BuildFiles = {
    distDir: options.distDir,
    https,
    connectSources: options.storageUrl ? [new URL(options.storageUrl).origin] : [],
    embedding: options.embedding ?? new EmbeddingOrigins({ triageUrl: options.triageUrl }),
  };

  const metrics = createServiceMetrics('web', Boolean(options.metricsToken));

  const server = http.createServer((request, response) => {
    for (const [name, value] of Object.entries(common)) response.setHeader(name, value);
    const url = new URL(request.url ?? '/', 'http://static.invalid');
    const timer = metrics.httpDuration.startTimer({ method: request.method ?? 'GET' });
    response.once('finish', () =>
      timer({ route: routeOf(url.pathname, options), status_code: String(response.statusCode) }),
    );
    if (url.pathname === '/metrics' && options.metricsToken)
      return void serveMetrics(response, metrics, request.headers.authorization, options.metricsToken);
    if (url.pathname === '/healthz' || url.pathname === '/readyz')
      return void probe(response, url.pathname, options.distDir);
    const target = proxyTarget(url.pathname, options);
    if (target) return proxy(request, response, target.base, target.path + url.search);
    if (url.pathname.startsWith('/call-node/'))
      return void callNodeTarget(url, options.callNodes).then(
        (node) => {
          if ('refused' in node) return plain(response, node.refused, node.text);
          proxy(request, response, node.base, node.path, (error) => node.unreachable(error));
        },
        () => plain(response, 503, 'Call nodes cannot be reached just now'),
      );
    serveBuildFile(build, request, response, url).catch((error: unknown) => {
      if (!response.headersSent) plain(response, 500, 'Internal server error');
      else response.destroy(error instanceof Error ? error : undefined);
    });
  });

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://static.invalid');
    if (url.pathname.startsWith('/call-node/')) {
      callNodeTarget(url, options.callNodes).then(
        (node) => {
          if ('refused' in node) return void socket.destroy();
          tunnel(request, socket, head, node.base, node.path, (error) => node.unreachable(error));
        },
        () => socket.destroy(),
      );
      return;
    }
    const target = proxyTarget(url.pathname, options);
    if (!target || url.pathname.startsWith('/api')) return void socket.destroy();
    tunnel(request, socket, head, target.base, target.path + url.search);
  });
  return server;
}

/** Headers a proxy adds: who asked, over what, for which host (the services decide whether to trust them). */
function forwardedHeaders(request: IncomingMessage): Record<string, string> {
  const client = request.socket.remoteAddress ?? '';
  const previous = request.headers['x-forwarded-for'];
  return {
    'x-forwarded-for': previous ? `${String(previous)}, ${client}` : client,
    'x-forwarded-proto': String(request.headers['x-forwarded-proto'] ?? 'http'),
    'x-forwarded-host': String(request.headers['x-forwarded-host'] ?? request.headers.host ?? ''),
  };
}

/** Passes one HTTP request on to `base` at `targetPath` and streams the answer back. */
export function proxy(
  request: IncomingMessage,
  response: ServerResponse,
  base: URL,
  targetPath: string,
  onError?: (error: Error) => void,
): void {
  const outgoing = http.request(
    {
      host: base.hostname,
      port: base.port || 80,
      method: request.method,
      path: targetPath,
      headers: { ...request.headers, ...forwardedHeaders(request), host: base.host },
    },
    (upstream) => {
      response.writeHead(upstream.statusCode ?? 502, upstream.headers);
      upstream.pipe(response);
    },
  );
  outgoing.on('error', (error: Error) => {
    if (onError) onError(error);
    if (!response.headersSent) plain(response, 502, 'Bad gateway');
    else response.destroy();
  });
  request.pipe(outgoing);
}

/** Passes a WebSocket upgrade on to `base`: the request as it came, then bytes both ways. */
export function tunnel(
  request: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  base: URL,
  targetPath: string,
  onError?: (error: Error) => void,
): void {
  const upstream = net.connect(Number(base.port || 80), base.hostname);
  const headers = { ...request.headers, ...forwardedHeaders(request), host: base.host };
  upstream.once('connect', () => {
    const lines = [`${request.method ?? 'GET'} ${targetPath} HTTP/1.1`];
    for (const [name, value] of Object.entries(headers)) {
      for (const one of Array.isArray(value) ? value : [value])
        if (one !== undefined) lines.push(`${name}: ${one}`);
    }
    upstream.write(`${lines.join('\r\n')}\r\n\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  const close = () => {
    upstream.destroy();
    socket.destroy();
  };
  upstream.on('error', (error: Error) => {
    if (onError) onError(error);
    close();
  });
  socket.on('error', close);
  upstream.on('close', close);
  socket.on('close', close);
}
