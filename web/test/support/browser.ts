import { mkdtempSync, rmSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  chromium,
  type Browser,
  type BrowserContext,
  type BrowserContextOptions,
  type Page,
} from 'playwright-core';
import type { ViteDevServer } from 'vite';
import { createWebServer } from '../../src/app';
import { loadWebConfig, type WebConfig } from '../../src/config';

/** Debian's Chromium by default; playwright's own browser download cannot work offline. */
export const chromiumPath = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

/** The switches every browser test runs Chromium with. */
export const chromiumArgs: readonly string[] = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  // getUserMedia gets a synthetic camera and microphone, granted without a prompt.
  '--use-fake-device-for-media-stream',
  '--use-fake-ui-for-media-stream',
];

/**
 * Starts headless Chromium for a test; `browser.close()` stops it. `launch()` rather than
 * `launchPersistentContext()`: playwright gives each launch a fresh temporary profile (and deletes it
 * on close), and one browser can hold several isolated contexts, e.g. a patient and a clinician.
 * `extraArgs` are for the one test that needs more (e.g. a self-signed certificate accepted).
 */
export function launchBrowser(extraArgs: readonly string[] = []): Promise<Browser> {
  return chromium.launch({ executablePath: chromiumPath, args: [...chromiumArgs, ...extraArgs] });
}

/** True for URLs on this machine (and for data:, blob: and the like, which never leave the browser). */
export function isLocalUrl(url: string | URL): boolean {
  const { protocol, hostname } = new URL(url);
  if (!['http:', 'https:', 'ws:', 'wss:'].includes(protocol)) return true;
  return ['127.0.0.1', 'localhost', '[::1]'].includes(hostname);
}

/**
 * A fresh, isolated context that can reach only this machine: anything else (e.g. the NHS fonts on
 * assets.nhs.uk, which pages fall back from to Arial) is refused, so tests never depend on the network.
 */
export async function newLocalContext(
  browser: Browser,
  options?: BrowserContextOptions,
): Promise<BrowserContext> {
  const context = await browser.newContext(options);
  await context.route(
    (url) => !isLocalUrl(url),
    (route) => route.abort('blockedbyclient').catch(() => undefined),
  );
  return context;
}

/** A page in its own `newLocalContext`; closing the page closes its context too. */
export async function newLocalPage(browser: Browser, options?: BrowserContextOptions): Promise<Page> {
  const context = await newLocalContext(browser, options);
  const page = await context.newPage();
  // the browser may already be closing everything: a context closed twice is not an error here
  page.once('close', () => void context.close().catch(() => undefined));
  return page;
}

/**
 * Uncaught exceptions and console errors of a page, collected from now on, to assert it ran cleanly.
 * Failed loads from other hosts are left out: `newLocalContext` refuses those on purpose.
 */
export function collectPageErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (error) => errors.push(`uncaught ${error.name}: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const source = message.location().url;
    if (source && !isLocalUrl(source) && message.text().startsWith('Failed to load resource')) return;
    errors.push(`console.error: ${message.text()}${source ? ` (${source})` : ''}`);
  });
  return errors;
}

export interface RunningWebServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:40123/`. */
  url: string;
  server: ViteDevServer;
  /** Stops the server and removes its dependency cache. */
  close(): Promise<void>;
}

let viteCacheRoot: string | undefined;

/**
 * A dependency cache of its own for each server, so test files running in parallel never re-optimise
 * (and so reload) each other's pages. All live under one folder per test process, removed at exit:
 * vite can still write a cancelled optimisation into a cache just after `close()` resolves.
 */
function newViteCacheDir(): string {
  if (viteCacheRoot === undefined) {
    const root = mkdtempSync(path.join(tmpdir(), 'gpc-web-vite-'));
    process.once('exit', () => rmSync(root, { recursive: true, force: true }));
    viteCacheRoot = root;
  }
  return mkdtempSync(path.join(viteCacheRoot, 'server-'));
}

/**
 * The web dev server on a free port of 127.0.0.1, with the service's defaults (not `WEB_*` from the
 * environment) under `config`; point `triageUrl`/`signallingUrl` at test servers to proxy to them.
 */
export async function startWebServer(config: Partial<WebConfig> = {}): Promise<RunningWebServer> {
  const cacheDir = newViteCacheDir();
  const removeCache = () => rm(cacheDir, { recursive: true, force: true });
  let server: ViteDevServer | undefined;
  try {
    server = await createWebServer(
      { ...loadWebConfig({}), port: 0, ...config },
      { logLevel: 'warn', cacheDir },
    );
    await server.listen();
    const url = server.resolvedUrls?.local[0];
    if (url === undefined) throw new Error('vite is listening but reported no local URL');
    const running = server;
    return {
      url,
      server: running,
      close: async () => {
        await running.close();
        await removeCache();
      },
    };
  } catch (error) {
    await server?.close();
    await removeCache();
    throw error;
  }
}
