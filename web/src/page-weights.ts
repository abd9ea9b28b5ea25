import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

/**
 * What each built page weighs: the gzipped bytes of the JavaScript and CSS it loads, read from the
 * page's own HTML (its module script, the modulepreload links vite writes for every chunk that script
 * imports, and its stylesheets). Issue 15's budgets are on these figures; bench/src/web-budget.ts
 * prints them and web/test/web-budget.test.ts keeps them.
 */

/** Gzipped bytes a page may load; pages not named here take the default. */
export const pageBudgets: { default: PageBudget } & Record<string, PageBudget> = {
  default: { js: 70_000, css: 12_000 },
  'form.html': { js: 10_000, css: 12_000 },
  'call.html': { js: 70_000, css: 12_000 },
};

export interface PageBudget {
  js: number;
  css: number;
}

export interface PageWeight {
  page: string;
  /** Files under the build folder, as the page names them (`/assets/form-abc.js`). */
  js: string[];
  css: string[];
  jsGzip: number;
  cssGzip: number;
  budget: PageBudget;
}

export const gzipBytes = (content: string | Buffer): number => gzipSync(content).length;

/** Same-origin files the page loads with this tag and attribute (`<link rel="stylesheet" href>`). */
function loads(html: string, tag: RegExp, attribute: 'src' | 'href'): string[] {
  const found: string[] = [];
  for (const [element] of html.matchAll(/<(?:script|link)\b[^>]*>/g)) {
    if (!tag.test(element)) continue;
    const value = new RegExp(`\\b${attribute}="(/[^"]+)"`).exec(element)?.[1];
    if (value) found.push(value);
  }
  return found;
}

async function gzippedTotal(distDir: string, files: string[]): Promise<number> {
  const sizes = await Promise.all(
    files.map(async (file) => gzipBytes(await readFile(path.join(distDir, file)))),
  );
  return sizes.reduce((sum, size) => sum + size, 0);
}

/** Every HTML page of a build, with what it loads. */
export async function pageWeights(distDir: string): Promise<PageWeight[]> {
  const pages = (await readdir(distDir)).filter((name) => name.endsWith('.html')).sort();
  return Promise.all(
    pages.map(async (page) => {
      const html = await readFile(path.join(distDir, page), 'utf8');
      // classic scripts (js-enabled.js, a few bytes) count too: the page loads them
      const js = [
        ...new Set([...loads(html, /^<script\b/, 'src'), ...loads(html, /\brel="modulepreload"/, 'href')]),
      ];
      const css = loads(html, /\brel="stylesheet"/, 'href');
      return {
        page,
        js,
        css,
        jsGzip: await gzippedTotal(distDir, js),
        cssGzip: await gzippedTotal(distDir, css),
        budget: pageBudgets[page] ?? pageBudgets.default,
      };
    }),
  );
}

/** The budgets a build breaks, in words ('form.html: 10312 B of JavaScript gzipped, budget 10000 B'); none is []. */
export function overBudget(weights: PageWeight[]): string[] {
  return weights.flatMap(({ page, jsGzip, cssGzip, budget }) => [
    ...(jsGzip > budget.js ? [`${page}: ${jsGzip} B of JavaScript gzipped, budget ${budget.js} B`] : []),
    ...(cssGzip > budget.css ? [`${page}: ${cssGzip} B of CSS gzipped, budget ${budget.css} B`] : []),
  ]);
}
