import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { readFileSync } from 'node:fs';
import { defineConfig, type Plugin, type UserConfig } from 'vite';
import { loadWebConfig, type WebConfig } from './src/config';
import { purgeStyles } from './src/purge-styles';

/** The web package folder is vite's root, so every HTML file in it is served as a page. */
export const webRoot = path.dirname(fileURLToPath(import.meta.url));

/** NHS.UK frontend's icons; its stylesheet refers to them as `/assets/images/...`. */
const nhsukImages = path.join(
  path.dirname(createRequire(import.meta.url).resolve('nhsuk-frontend/package.json')),
  'dist/nhsuk/assets/images',
);

/** One build entry per page; the call, form, dashboard and widget pages add theirs here. */
const pages = {
  index: path.join(webRoot, 'index.html'),
  call: path.join(webRoot, 'call.html'),
  clinician: path.join(webRoot, 'clinician.html'),
  form: path.join(webRoot, 'form.html'),
  widgetDemo: path.join(webRoot, 'widget-demo.html'),
  staff: path.join(webRoot, 'staff.html'),
  settings: path.join(webRoot, 'settings.html'),
  staffAdmin: path.join(webRoot, 'staff-admin.html'),
  account: path.join(webRoot, 'account.html'),
  thread: path.join(webRoot, 'thread.html'),
};

/**
 * Markup several pages share, written once in web/partials: a page says `<!-- gpc:header -->` (or
 * another partial's name) where it goes.
 */
const partials: Plugin = {
  name: 'gpc-partials',
  transformIndexHtml: (html) =>
    html.replace(/<!-- gpc:([a-z-]+) -->/g, (_marker, name: string) =>
      readFileSync(path.join(webRoot, 'partials', `${name}.html`), 'utf8').replace(/^<!--.*?-->\n/, ''),
    ),
};

/** Vite's settings for the web pages, from the service's own configuration. */
export function viteConfig(config: WebConfig): UserConfig {
  return {
    root: webRoot,
    plugins: [partials, purgeStyles()],
    // Several HTML pages, no client-side router: an unknown path is a 404, not index.html.
    appType: 'mpa',
    clearScreen: false,
    resolve: {
      alias: [{ find: /^\/assets\/images\/(nhsuk-icon-[\w-]+\.svg)$/, replacement: `${nhsukImages}/$1` }],
    },
    server: {
      host: config.host,
      port: config.port,
      // A busy port must fail start-up, not move silently to a port nothing else knows about.
      strictPort: true,
      proxy: {
        // triage's routes live at its root; the pages call them under /api on their own origin
        '/api': { target: config.triageUrl, rewrite: (path) => path.replace(/^\/api(?=\/|$)/, '') },
        '/socket.io': { target: config.signallingUrl, ws: true },
        '/staff-live': { target: config.triageUrl, ws: true },
      },
    },
    build: {
      outDir: 'dist',
      emptyOutDir: true,
      // lightningcss rejects the old-IE hack (`@media screen\0`) in NHS.UK frontend's CSS, which ships minified anyway.
      cssMinify: false,
      rolldownOptions: { input: pages },
    },
  };
}

// For vite's own CLI, run under tsx (e.g. `node --import tsx node_modules/vite/bin/vite.js build web`) since
// @gpc/contracts is TypeScript; the service entry (src/server.ts) calls viteConfig directly.
export default defineConfig(() => viteConfig(loadWebConfig()));
