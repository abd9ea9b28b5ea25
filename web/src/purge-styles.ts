import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import postcss, { type ChildNode, type Container } from 'postcss';
import type { Plugin, Rolldown } from 'vite';

type OutputAsset = Rolldown.OutputAsset;
type OutputBundle = Rolldown.OutputBundle;
type OutputChunk = Rolldown.OutputChunk;

/**
 * Each built page loads one stylesheet of its own with only the rules it can use: the rules of the
 * stylesheets vite linked (NHS.UK frontend's whole stylesheet, 31 kB gzipped, and the page's own
 * CSS) whose class selectors all name classes found in the page's HTML or in the JavaScript it loads.
 * Class names built in TypeScript from a template (`nhsuk-button--${variant}`) or a concatenation
 * keep every class their fixed parts match. Rules without classes (elements, attributes, :root,
 * @font-face, @keyframes) are kept. Build only; the development server serves the stylesheets whole.
 */
export function purgeStyles(): Plugin {
  let publicDir = '';
  return {
    name: 'gpc-purge-styles',
    apply: 'build',
    enforce: 'post',
    configResolved(config) {
      publicDir = config.publicDir;
    },
    generateBundle(_options, bundle) {
      const used = new Set<string>();
      for (const asset of Object.values(bundle)) {
        if (asset.type !== 'asset' || !asset.fileName.endsWith('.html')) continue;
        const html = String(asset.source);
        const sheets = linked(html, /\brel="stylesheet"/, 'href');
        if (sheets.length === 0) continue;
        const words = usedWords(html, scriptsOf(html, bundle, publicDir));
        const css = sheets
          .map((file) => String((bundle[file] as OutputAsset | undefined)?.source ?? ''))
          .join('\n');
        const page = asset.fileName.replace(/\.html$/, '');
        const reference = this.emitFile({ type: 'asset', name: `${page}.css`, source: purge(css, words) });
        const href = `/${this.getFileName(reference)}`;
        sheets.forEach((file) => used.add(file));
        let first = true;
        asset.source = html.replace(/<link\b[^>]*\brel="stylesheet"[^>]*>\n?\s*/g, (link) => {
          if (!/\bhref="\/assets\//.test(link)) return link;
          const replacement = first ? link.replace(/\bhref="[^"]+"/, `href="${href}"`) : '';
          first = false;
          return replacement;
        });
      }
      // the whole stylesheets go unless a script still names one (a dynamic import's CSS)
      const scripts = Object.values(bundle).filter((each): each is OutputChunk => each.type === 'chunk');
      for (const file of used) {
        const name = file.replace(/^.*\//, '');
        if (!scripts.some((chunk) => chunk.code.includes(name))) delete bundle[file];
      }
    },
  };
}

/** Bundle file names (`assets/x.js`) of what the page links with this tag and attribute. */
function linked(html: string, tag: RegExp, attribute: 'src' | 'href'): string[] {
  const files: string[] = [];
  for (const [element] of html.matchAll(/<(?:script|link)\b[^>]*>/g)) {
    const value = new RegExp(`\\b${attribute}="/([^"]+)"`).exec(element)?.[1];
    if (tag.test(element) && value) files.push(value);
  }
  return files;
}

/** The code of the page's module scripts and every chunk they import, statically or not. */
function scriptsOf(html: string, bundle: OutputBundle, publicDir: string): string[] {
  const pending = [...linked(html, /^<script\b/, 'src'), ...linked(html, /\brel="modulepreload"/, 'href')];
  const seen = new Set<string>();
  const code: string[] = [];
  for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
    if (seen.has(file)) continue;
    seen.add(file);
    const chunk = bundle[file];
    // a classic script copied from public/ as it is (js-enabled.js sets body's nhsuk-frontend-supported)
    const copied = path.join(publicDir, file);
    if (!chunk && publicDir && existsSync(copied)) code.push(readFileSync(copied, 'utf8'));
    if (chunk?.type !== 'chunk') continue;
    code.push(chunk.code);
    pending.push(...chunk.imports, ...chunk.dynamicImports);
  }
  return code;
}

interface UsedWords {
  words: Set<string>;
  /** Class names built in code: `nhsuk-${kind}--error` becomes /^nhsuk-[\w-]*--error$/. */
  patterns: RegExp[];
}

/** A fixed part naming more than a namespace: `nhsuk-button--`, not `nhsuk-` or `-`. */
const specific = (prefix: string) => /[a-zA-Z0-9_]-+[a-zA-Z0-9_]/.test(prefix);

function usedWords(html: string, scripts: string[]): UsedWords {
  const words = new Set<string>();
  const patterns: RegExp[] = [];
  for (const text of [html, ...scripts]) for (const [word] of text.matchAll(/[\w-]+/g)) words.add(word);
  const escape = (part: string) => part.replace(/[-]/g, '\\-');
  for (const code of scripts) {
    // a class-like word running into `${`: its template's other fixed parts follow the `}`
    // (a bare namespace such as `nhsuk-${kind}` alone would keep every class, so it needs a suffix)
    for (const [, before, after] of code.matchAll(/([\w-]*-)\$\{[^}`]*\}([\w-]*)/g))
      if (specific(before!) || after)
        patterns.push(new RegExp(`^${escape(before!)}[\\w-]*${escape(after!)}$`));
    for (const [, before] of code.matchAll(/["'`]([\w-]*[\w]-)["'`]\s*\+/g))
      if (specific(before!)) patterns.push(new RegExp(`^${escape(before!)}[\\w-]*$`));
  }
  return { words, patterns };
}

/** The class names a selector needs on the page; those inside :not() it does not. */
function classesNeeded(selector: string): string[] {
  let plain = selector.replace(/\[[^\]]*\]/g, '');
  // drop :not(...) with whatever it holds, nested parentheses included
  for (let at = plain.indexOf(':not('); at !== -1; at = plain.indexOf(':not(')) {
    let depth = 0;
    let end = at + 4;
    for (; end < plain.length; end++) {
      if (plain[end] === '(') depth++;
      else if (plain[end] === ')' && --depth === 0) break;
    }
    plain = plain.slice(0, at) + plain.slice(end + 1);
  }
  return [...plain.matchAll(/\.(-?[_a-zA-Z][\w-]*)/g)].map(([, name]) => name!);
}

function usable(selector: string, used: UsedWords): boolean {
  return classesNeeded(selector).every(
    (name) => used.words.has(name) || used.patterns.some((pattern) => pattern.test(name)),
  );
}

/** The stylesheet with the rules no element of the page can match taken out. */
export function purge(css: string, used: UsedWords): string {
  const root = postcss.parse(css);
  const prune = (container: Container<ChildNode>) => {
    container.each((node) => {
      if (node.type === 'rule') {
        if (node.parent?.type === 'atrule' && /keyframes$/i.test(node.parent.name)) return;
        const kept = node.selectors.filter((selector) => usable(selector, used));
        if (kept.length === 0) node.remove();
        else if (kept.length < node.selectors.length) node.selectors = kept;
      } else if (node.type === 'atrule' && node.nodes && !/keyframes$/i.test(node.name)) {
        prune(node);
        if (node.nodes.length === 0) node.remove();
      }
    });
  };
  prune(root);
  return root.toString();
}
