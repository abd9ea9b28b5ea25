import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createServer, type InlineConfig, type Plugin, type ViteDevServer } from 'vite';
import { viteConfig } from '../vite.config';
import { callNodeRoute, isRefused, redisCallNodes, type CallNodeDirectory } from './call-nodes';
import type { WebConfig } from './config';
import { proxy, tunnel } from './static-app';

/** What tests may change on top of the service's configuration. */
export type WebServerOptions = Pick<InlineConfig, 'logLevel' | 'cacheDir'>;

/**
 * The web pages' dev server (vite), built but not yet listening: call `.listen()` to serve and
 * `.close()` to stop. Port 0 in `config` picks a free port; `resolvedUrls` then names it.
 */
export function createWebServer(config: WebConfig, options: WebServerOptions = {}): Promise<ViteDevServer> {
  const base = viteConfig(config);
  const plugins = [...(base.plugins ?? [])];
  if (config.redisUrl) plugins.push(callNodeRoutes(redisCallNodes(config.redisUrl)));
  // configFile: false, so vite does not also load vite.config.ts (with its env reading) from the root.
  return createServer({ ...base, plugins, configFile: false, ...options });
}

/**
 * `/call-node/<id>/socket.io` (HTTP and WebSocket) to the call node announced in Redis under that
 * id, as the production server does (static-app.ts): only ids a live node announced, only to its address.
 */
function callNodeRoutes(nodes: CallNodeDirectory): Plugin {
  const target = async (rawUrl: string | undefined) => {
    const url = new URL(rawUrl ?? '/', 'http://dev.invalid');
    const route = callNodeRoute(url.pathname);
    const base = route && (await nodes.internalUrl(route.nodeId));
    if (!route || !base) return undefined;
    // nothing listens where it announced itself: its process is gone, its calls go elsewhere now
    const unreachable = (error: Error) => {
      if (isRefused(error)) nodes.refused(route.nodeId);
    };
    return { base, path: route.path + url.search, unreachable };
  };
  return {
    name: 'gpc-call-nodes',
    configureServer(server) {
      server.middlewares.use('/call-node', (request: IncomingMessage, response: ServerResponse) => {
        // connect strips the mount path: the original URL names the node
        const original = (request as IncomingMessage & { originalUrl?: string }).originalUrl ?? request.url;
        target(original).then(
          (node) => {
            if (node) return proxy(request, response, node.base, node.path, node.unreachable);
            response.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('Not found');
          },
          () => response.writeHead(503).end('Call nodes cannot be reached just now'),
        );
      });
      server.httpServer?.on('upgrade', (request: IncomingMessage, socket: Duplex, head: Buffer) => {
        if (!request.url?.startsWith('/call-node/')) return; // vite's own, and its proxy's
        target(request.url).then(
          (node) =>
            node ? tunnel(request, socket, head, node.base, node.path, node.unreachable) : socket.destroy(),
          () => socket.destroy(),
        );
      });
      server.httpServer?.once('close', () => nodes.close());
    },
  };
}
