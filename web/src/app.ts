import { createServer, type InlineConfig, type ViteDevServer } from 'vite';
import { viteConfig } from '../vite.config';
import type { WebConfig } from './config';

/** What tests may change on top of the service's configuration. */
export type WebServerOptions = Pick<InlineConfig, 'logLevel' | 'cacheDir'>;

/**
 * The web pages' dev server (vite), built but not yet listening: call `.listen()` to serve and
 * `.close()` to stop. Port 0 in `config` picks a free port; `resolvedUrls` then names it.
 */
export function createWebServer(config: WebConfig, options: WebServerOptions = {}): Promise<ViteDevServer> {
  // configFile: false, so vite does not also load vite.config.ts (with its env reading) from the root.
  return createServer({ ...viteConfig(config), configFile: false, ...options });
}
