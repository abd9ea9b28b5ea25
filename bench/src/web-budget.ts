/**
 * The pages' weight against issue 15's budgets: builds the pages twice in this run, as served (each
 * page's stylesheet holding only the rules it uses, web/src/purge-styles.ts) and as the baseline
 * (every page linking NHS.UK frontend's whole stylesheet), and prints each page's gzipped JavaScript
 * and CSS (everything its HTML loads) against its budget and the baseline. Exits 1 when a page is
 * over budget, naming it; sizes are not timings, and web/test/web-budget.test.ts keeps them too.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { buildPages } from '../../web/src/build';
import { gzipBytes, overBudget, pageWeights, type PageWeight } from '../../web/src/page-weights';

const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;

async function built(purgeStyles: boolean): Promise<PageWeight[]> {
  const outDir = await mkdtemp(path.join(tmpdir(), 'gpc-web-budget-'));
  try {
    await buildPages({ outDir, logLevel: 'error', purgeStyles });
    return await pageWeights(outDir);
  } finally {
    await rm(outDir, { recursive: true, force: true });
  }
}

const served = await built(true);
const baseline = await built(false);
const wholeStylesheet = gzipBytes(
  await readFile(
    createRequire(new URL('../../web/package.json', import.meta.url)).resolve(
      'nhsuk-frontend/dist/nhsuk/nhsuk-frontend.min.css',
    ),
  ),
);

console.log(
  `NHS.UK frontend's whole stylesheet: ${kB(wholeStylesheet)} gzipped (what every page loaded before)`,
);
console.log(
  `${'page'.padEnd(18)} ${'JS gzip'.padStart(9)} ${'budget'.padStart(8)}   ${'CSS gzip'.padStart(9)} ${'budget'.padStart(8)} ${'baseline'.padStart(9)} ${'ratio'.padStart(6)}`,
);
for (const page of served) {
  const before = baseline.find((each) => each.page === page.page);
  const ratio = before ? `${((page.cssGzip / before.cssGzip) * 100).toFixed(0)}%` : 'n/a';
  const mark = (bytes: number, budget: number) => (bytes > budget ? ' OVER' : '');
  console.log(
    `${page.page.padEnd(18)} ${kB(page.jsGzip).padStart(9)} ${kB(page.budget.js).padStart(8)}${mark(page.jsGzip, page.budget.js).padEnd(5)} ` +
      `${kB(page.cssGzip).padStart(9)} ${kB(page.budget.css).padStart(8)} ${(before ? kB(before.cssGzip) : 'n/a').padStart(9)} ${ratio.padStart(6)}${mark(page.cssGzip, page.budget.css)}`,
  );
}
const over = overBudget(served);
console.log(over.length === 0 ? 'every page is within its budget' : `over budget:\n  ${over.join('\n  ')}`);
process.exitCode = over.length === 0 ? 0 : 1;
