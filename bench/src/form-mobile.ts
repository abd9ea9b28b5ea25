/**
 * The patient form on a phone: `form.html?practice=A81001` from the production build (`vite build`),
 * served by the production web server process (web/src/static-server.ts) with the real triage behind
 * it, loaded in Chromium under a throttled mobile profile with a cold cache, N times; against a bare
 * HTML page (no script, no stylesheet) of the same server under the same profile, in the same run.
 * Prints bytes over the wire by type, first contentful paint and time to interactive (medians);
 * asserts nothing.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import type { Browser, CDPSession } from 'playwright-core';
import { CleanupStack, freePort, startTriage, track, waitFor } from '@gpc/test-support';
import { buildPages } from '../../web/src/build';
import { launchBrowser } from '../../web/test/support/browser';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const loads = Number(process.env.BENCH_LOADS ?? 7);

/**
 * Chrome DevTools' "Slow 4G" preset (called "Fast 3G" before Chrome 125): 562.5 ms of added round
 * trip, 1.44 Mbit/s down, 675 kbit/s up; with the CPU slowed 4x, as DevTools' mid-tier mobile.
 */
const network = { latency: 562.5, downloadThroughput: 180_000, uploadThroughput: 84_375 };
const cpuSlowdown = 4;
const phone = {
  viewport: { width: 390, height: 844 },
  deviceScaleFactor: 3,
  isMobile: true,
  hasTouch: true,
  userAgent:
    'Mozilla/5.0 (Linux; Android 13; Pixel 7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0.0.0 Mobile Safari/537.36',
};
/** The page counts as settled once no long task (>= 50 ms) has run for this long after its input appeared. */
const quietMs = 1000;

const barePage = `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><title>Bare page</title></head>
<body><main><h1>What do you need help with?</h1>
<form><label><input type="radio" name="form" value="a"> Ask about a health problem</label></form></main></body>
</html>
`;

interface Load {
  bytes: Map<string, number>;
  /** Requests finished, by the same types. */
  counts: Map<string, number>;
  total: number;
  requests: number;
  failed: string[];
  fcp: number;
  inputReady: number;
  tti: number;
  longTasks: number;
  accepted: boolean;
}

/**
 * Before any script of the page: long tasks observed, and when the first radio or text input appears
 * enabled. A string, not a function: tsx would wrap named functions in a helper the page does not have.
 */
const watchInteractive = `(() => {
  const record = { longTasks: [], inputReady: -1 };
  window.__bench = record;
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries())
      record.longTasks.push({ start: entry.startTime, end: entry.startTime + entry.duration });
  }).observe({ type: 'longtask', buffered: true });
  const look = () => {
    if (record.inputReady >= 0) return;
    if (document.querySelector('main input:not([disabled]):not([type="hidden"])')) record.inputReady = performance.now();
  };
  new MutationObserver(look).observe(document, { childList: true, subtree: true });
  document.addEventListener('DOMContentLoaded', look);
})();`;

function typeOf(resourceType: string | undefined, mimeType: string): string {
  if (resourceType === 'Document') return 'HTML';
  if (resourceType === 'Script') return 'JS';
  if (resourceType === 'Stylesheet') return 'CSS';
  if (resourceType === 'Font' || mimeType.startsWith('font/')) return 'fonts';
  if (resourceType === 'Image' || mimeType.startsWith('image/')) return 'images';
  if (resourceType === 'Fetch' || resourceType === 'XHR') return 'API';
  return 'other';
}

async function loadOnce(browser: Browser, url: string): Promise<Load> {
  // a context of its own is a cold cache: nothing kept from the load before
  const context = await browser.newContext(phone);
  try {
    const page = await context.newPage();
    await page.addInitScript({ content: watchInteractive });
    const cdp: CDPSession = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.clearBrowserCache');
    await cdp.send('Network.emulateNetworkConditions', { offline: false, ...network });
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: cpuSlowdown });
    const types = new Map<string, string>();
    const bytes = new Map<string, number>();
    const counts = new Map<string, number>();
    const failed: string[] = [];
    let requests = 0;
    cdp.on('Network.requestWillBeSent', (event) => types.set(event.requestId, event.type ?? 'Other'));
    cdp.on('Network.responseReceived', (event) =>
      types.set(event.requestId, typeOf(event.type, event.response.mimeType)),
    );
    cdp.on('Network.loadingFinished', (event) => {
      const type = types.get(event.requestId) ?? 'other';
      const label = ['HTML', 'JS', 'CSS', 'fonts', 'images', 'API', 'other'].includes(type) ? type : 'other';
      bytes.set(label, (bytes.get(label) ?? 0) + event.encodedDataLength);
      counts.set(label, (counts.get(label) ?? 0) + 1);
      requests++;
    });
    cdp.on('Network.loadingFailed', (event) => {
      failed.push(
        `${event.type} ${event.errorText}${event.blockedReason ? ` (${event.blockedReason})` : ''}`,
      );
      requests++;
    });
    const failedUrls = new Map<string, string>();
    cdp.on('Network.requestWillBeSent', (event) => failedUrls.set(event.requestId, event.request.url));
    cdp.on('Network.loadingFailed', (event) => {
      const at = failedUrls.get(event.requestId);
      if (at) failed[failed.length - 1] = `${new URL(at).host}${new URL(at).pathname}: ${failed.at(-1)}`;
    });

    await page.goto(url, { waitUntil: 'commit', timeout: 60_000 });
    // interactive: the input is there, and the main thread has been free of long tasks for `quietMs`
    const settled = await page.waitForFunction(
      (quiet) => {
        const bench = (
          window as unknown as {
            __bench: { inputReady: number; longTasks: { start: number; end: number }[] };
          }
        ).__bench;
        if (!bench || bench.inputReady < 0) return false;
        const lastEnd = Math.max(0, ...bench.longTasks.map((task) => task.end));
        const fcp = performance.getEntriesByName('first-contentful-paint')[0]?.startTime;
        if (fcp === undefined) return false;
        // nothing is interactive before it is on the screen
        const since = Math.max(fcp, bench.inputReady, lastEnd);
        if (performance.now() - since < quiet) return false;
        return { inputReady: bench.inputReady, tti: since, fcp, longTasks: bench.longTasks.length };
      },
      quietMs,
      { timeout: 60_000, polling: 100 },
    );
    const figures = (await settled.jsonValue()) as {
      inputReady: number;
      tti: number;
      fcp: number;
      longTasks: number;
    };
    // the input takes a choice (the page's script, where there is one, has run its course)
    await cdp.send('Emulation.setCPUThrottlingRate', { rate: 1 });
    const input = page.locator('main input').first();
    await input.check({ timeout: 10_000 });
    const accepted = await input.isChecked();
    const total = [...bytes.values()].reduce((a, b) => a + b, 0);
    return { bytes, counts, total, requests, failed, ...figures, accepted };
  } finally {
    await context.close();
  }
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
};
const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
const ms = (value: number) => `${Math.round(value)} ms`;

function describe(label: string, runs: Load[]): void {
  const types = [...new Set(runs.flatMap((run) => [...run.bytes.keys()]))].sort();
  const byType = types
    .map(
      (type) =>
        `${type} ${kB(median(runs.map((run) => run.bytes.get(type) ?? 0)))} in ${median(runs.map((run) => run.counts.get(type) ?? 0))}`,
    )
    .join(', ');
  console.log(
    `${label.padEnd(12)} n=${runs.length}  over the wire ${kB(median(runs.map((r) => r.total)))} (${byType}) in ${median(runs.map((r) => r.requests))} requests`,
  );
  const spread = (pick: (r: Load) => number) =>
    `${ms(median(runs.map(pick)))} (min ${ms(Math.min(...runs.map(pick)))}, max ${ms(Math.max(...runs.map(pick)))})`;
  console.log(
    `${''.padEnd(12)} first contentful paint ${spread((r) => r.fcp)}; input there ${spread((r) => r.inputReady)}; ` +
      `interactive ${spread((r) => r.tti)}; long tasks ${median(runs.map((r) => r.longTasks))}; ` +
      `input took a choice in ${runs.filter((r) => r.accepted).length}/${runs.length}`,
  );
  const failures = [...new Set(runs.flatMap((run) => run.failed))];
  if (failures.length > 0) console.log(`${''.padEnd(12)} failed requests: ${failures.join('; ')}`);
}

async function main(): Promise<void> {
  const cleanup = new CleanupStack();
  try {
    const [l1, l5, l15] = loadavg();
    console.log(
      `Patient form on a phone: Chromium, ${phone.viewport.width}x${phone.viewport.height} at ${phone.deviceScaleFactor}x, ` +
        `DevTools' "Slow 4G" (${network.latency} ms added round trip, ${((network.downloadThroughput * 8) / 1e6).toFixed(2)} Mbit/s down, ` +
        `${((network.uploadThroughput * 8) / 1e3).toFixed(0)} kbit/s up), CPU slowed ${cpuSlowdown}x, cold cache, ${loads} loads each; ` +
        `load average ${l1!.toFixed(2)} ${l5!.toFixed(2)} ${l15!.toFixed(2)}`,
    );
    console.log(
      `  interactive: the page has painted, its first input is in the DOM and enabled, and no long task (>= 50 ms) has run for ${quietMs} ms ` +
        'since: the latest of first contentful paint, the input appearing and the last long task ending; then the input is checked to take a choice',
    );
    const outDir = await mkdtemp(path.join(tmpdir(), 'gpc-bench-form-'));
    cleanup.after(() => rm(outDir, { recursive: true, force: true }));
    await buildPages({ outDir, logLevel: 'error' });
    await writeFile(path.join(outDir, 'bench-bare.html'), barePage);

    const triage = await startTriage(cleanup, { listen: true, rateLimitAllowList: ['127.0.0.1'] });
    const port = await freePort();
    const web = track(
      spawn(process.execPath, ['--import', 'tsx', 'web/src/static-server.ts'], {
        cwd: repoRoot,
        env: {
          PATH: process.env.PATH ?? '',
          WEB_PORT: String(port),
          WEB_DIST_DIR: outDir,
          WEB_TRIAGE_URL: triage.url,
          WEB_SIGNALLING_URL: 'http://127.0.0.1:9',
          WEB_PUBLIC_URL: `http://127.0.0.1:${port}`,
        },
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    cleanup.after(() => web.stop());
    const base = `http://127.0.0.1:${port}/`;
    await waitFor(
      () => `the production web server to answer: ${web.output()}`,
      async () => (await fetch(`${base}healthz`).catch(() => undefined))?.ok === true,
      { timeoutMs: 30_000 },
    );
    const encoding = (await fetch(`${base}form.html?practice=A81001`)).headers.get('content-encoding');
    console.log(`  the server's content-encoding for pages: ${encoding ?? 'none (sent uncompressed)'}`);

    const browser = await launchBrowser();
    cleanup.after(() => browser.close());
    const form: Load[] = [];
    const bare: Load[] = [];
    // warm the server and triage once, unmeasured; then the two pages in turn, so both see the same machine
    await loadOnce(browser, `${base}form.html?practice=A81001`);
    for (let i = 0; i < loads; i++) {
      bare.push(await loadOnce(browser, `${base}bench-bare.html`));
      form.push(await loadOnce(browser, `${base}form.html?practice=A81001`));
    }
    console.log('');
    describe('bare page', bare);
    describe('form page', form);
    const ratio = (pick: (r: Load) => number) => (median(form.map(pick)) / median(bare.map(pick))).toFixed(2);
    console.log(
      `\nform / bare page: bytes over the wire ${ratio((r) => r.total)}, first contentful paint ${ratio((r) => r.fcp)}, ` +
        `interactive ${ratio((r) => r.tti)}; interactive minus the bare page's: ${ms(median(form.map((r) => r.tti)) - median(bare.map((r) => r.tti)))}`,
    );
    const [a, b, c] = loadavg();
    console.log(`load average at end ${a!.toFixed(2)} ${b!.toFixed(2)} ${c!.toFixed(2)}`);
  } finally {
    await cleanup.run();
  }
}

await main();
