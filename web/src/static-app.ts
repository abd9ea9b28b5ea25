import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import { createServiceMetrics, scrape } from '@gpc/contracts/metrics';
import { callNodeRoute, isRefused, type CallNodeDirectory } from './call-nodes';
import { EmbeddingOrigins } from './embedding';
import { chooseEncoding, compressibleExtensions, precompressedEncodings } from './precompress';
import {
  commonSecurityHeaders,
  contentSecurityPolicy,
  permissionsPolicy,
  resourceContentSecurityPolicy,
} from './security-headers';

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

const contentTypes: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json',
  '.woff2': 'font/woff2',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** The static server, built but not listening: `listen()` it, `close()` it. */
export function createStaticServer(options: StaticServerOptions): http.Server {
  const https = new URL(options.publicUrl).protocol === 'https:';
  const embedding = options.embedding ?? new EmbeddingOrigins({ triageUrl: options.triageUrl });
  const common = commonSecurityHeaders({ https });
  const connectSources = options.storageUrl ? [new URL(options.storageUrl).origin] : [];

  const metrics = createServiceMetrics('web', Boolean(options.metricsToken));

  const server = http.createServer((request, response) => {
    for (const [name, value] of Object.entries(common)) response.setHeader(name, value);
    const url = new URL(request.url ?? '/', 'http://static.invalid');
    const timer = metrics.httpDuration.startTimer({ method: request.method ?? 'GET' });
    response.once('finish', () =>
      timer({ route: routeOf(url.pathname, options), status_code: String(response.statusCode) }),
    );
    if (url.pathname === '/metrics' && options.metricsToken)
      return void serveMetrics(response, request.headers.authorization, options.metricsToken);
    if (url.pathname === '/healthz' || url.pathname === '/readyz') return void probe(response, url.pathname);
    const target = proxyTarget(url.pathname, options);
    if (target) return proxy(request, response, target.base, target.path + url.search);
    if (url.pathname.startsWith('/call-node/'))
      return void callNodeTarget(url).then(
        (node) => {
          if ('refused' in node) return plain(response, node.refused, node.text);
          proxy(request, response, node.base, node.path, (error) => node.unreachable(error));
        },
        () => plain(response, 503, 'Call nodes cannot be reached just now'),
      );
    serveFile(request, response, url).catch((error: unknown) => {
      if (!response.headersSent) plain(response, 500, 'Internal server error');
      else response.destroy(error instanceof Error ? error : undefined);
    });
  });

  /**
   * Orchestrators' probes: `/healthz` while the process answers; `/readyz` while the build can be read
   * (a lost volume or a half-copied build is not ready). Neither depends on triage or signalling.
   */
  async function probe(response: ServerResponse, pathname: string): Promise<void> {
    const ready =
      pathname === '/healthz' ||
      (await stat(path.join(options.distDir, 'index.html')).then(
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

  async function serveMetrics(response: ServerResponse, authorization: string | undefined, token: string) {
    const answer = await scrape(metrics, authorization, token);
    response.writeHead(answer.status, {
      'content-type': answer.status === 200 ? answer.contentType : 'application/json',
      'cache-control': 'no-store',
      'content-security-policy': resourceContentSecurityPolicy,
    });
    response.end(answer.body);
  }

  /** The page's own headers: its CSP (frame-ancestors from the practice for the form) and permissions. */
  async function pageHeaders(page: string, url: URL): Promise<Record<string, string>> {
    // the form may be framed by the practice's own websites, and by the widget demo on our origin
    const frameAncestors =
      page === 'form.html' ? await formFrameAncestors(url.searchParams.get('practice')) : [];
    return {
      'content-security-policy': contentSecurityPolicy({ frameAncestors, connectSources, https }),
      'permissions-policy': permissionsPolicy(page),
      'cache-control': 'no-cache',
    };
  }

  async function formFrameAncestors(ods: string | null): Promise<string[]> {
    const origins = await embedding.of(ods);
    return origins.length ? ["'self'", ...origins] : [];
  }

  async function serveFile(request: IncomingMessage, response: ServerResponse, url: URL): Promise<void> {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('allow', 'GET, HEAD');
      return plain(response, 405, 'Method not allowed');
    }
    const file = await findFile(options.distDir, url.pathname);
    if (!file) return plain(response, 404, 'Not found');
    const extension = path.extname(file.path);
    const page = extension === '.html' ? path.basename(file.path) : undefined;
    const headers = page
      ? await pageHeaders(page, url)
      : {
          'content-security-policy': resourceContentSecurityPolicy,
          // hashed file names under /assets never change; everything else is checked each time
          'cache-control': url.pathname.startsWith('/assets/')
            ? 'public, max-age=31536000, immutable'
            : 'no-cache',
        };
    // the build's brotli or gzip copy (src/precompress.ts) to a browser that takes it
    const compressible = compressibleExtensions.has(extension);
    const sent = compressible
      ? await compressedCopy(file.path, chooseEncoding(request.headers['accept-encoding']))
      : undefined;
    response.writeHead(200, {
      ...headers,
      'content-type': contentTypes[extension] ?? 'application/octet-stream',
      'content-length': String((sent ?? file).size),
      ...(compressible ? { vary: 'accept-encoding' } : {}),
      ...(sent ? { 'content-encoding': sent.encoding } : {}),
    });
    if (request.method === 'HEAD') return void response.end();
    createReadStream((sent ?? file).path).pipe(response);
  }

  /**
   * The announced address of the call node a `/call-node/<id>/socket.io` path names, or why not:
   * only ids a live node announced, only its socket.io, only to the address it announced.
   */
  async function callNodeTarget(
    url: URL,
  ): Promise<
    { base: URL; path: string; unreachable: (error: unknown) => void } | { refused: number; text: string }
  > {
    const route = callNodeRoute(url.pathname);
    const nodes = options.callNodes;
    const base = route && (await nodes?.internalUrl(route.nodeId));
    if (!route || !nodes || !base) return { refused: 404, text: 'Not found' };
    // nothing listens where it announced itself: its process is gone, its calls go elsewhere now
    const unreachable = (error: unknown) => {
      if (isRefused(error)) nodes.refused(route.nodeId);
    };
    return { base, path: route.path + url.search, unreachable };
  }

  server.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(request.url ?? '/', 'http://static.invalid');
    if (url.pathname.startsWith('/call-node/')) {
      callNodeTarget(url).then(
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

/** A file of the build for a URL path, or undefined (outside the build, missing, or a folder). */
async function findFile(root: string, pathname: string): Promise<{ path: string; size: number } | undefined> {
  let decoded: string;
  try {
    decoded = decodeURIComponent(pathname);
  } catch {
    return undefined;
  }
  if (decoded.includes('\0')) return undefined;
  const relative = decoded === '/' ? 'index.html' : decoded;
  const file = path.resolve(root, `.${path.posix.normalize(`/${relative}`)}`);
  if (!file.startsWith(path.resolve(root) + path.sep)) return undefined;
  try {
    const info = await stat(file);
    return info.isFile() ? { path: file, size: info.size } : undefined;
  } catch {
    return undefined;
  }
}

/** The build's copy of `file` in `encoding` (`file.br`, `file.gz`), if it has one. */
async function compressedCopy(
  file: string,
  encoding: 'br' | 'gzip' | undefined,
): Promise<{ path: string; size: number; encoding: string } | undefined> {
  const made = precompressedEncodings.find((each) => each.encoding === encoding);
  if (!made) return undefined;
  const info = await stat(file + made.suffix).catch(() => undefined);
  return info?.isFile() ? { path: file + made.suffix, size: info.size, encoding: made.encoding } : undefined;
}

function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-security-policy': resourceContentSecurityPolicy,
  });
  response.end(text);
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
