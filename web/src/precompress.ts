// Compressed copies of the build's text files, made once at build time (as nginx's gzip_static and
// brotli_static expect them): a phone on a slow link gets the form's CSS and JavaScript in a fifth
// of the bytes, and the server spends no CPU compressing the same files for every request.
import { readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { brotliCompress, constants, gzip } from 'node:zlib';

const brotli = promisify(brotliCompress);
const gzipped = promisify(gzip);

/** Kinds worth compressing: text. Images and fonts are compressed already. */
export const compressibleExtensions = new Set(['.html', '.js', '.css', '.svg', '.json', '.txt']);

/** Below this a compressed copy saves less than its headers cost. */
const smallestWorthIt = 1024;

/** The encodings made, in the order the server prefers them. */
export const precompressedEncodings = [
  { encoding: 'br', suffix: '.br' },
  { encoding: 'gzip', suffix: '.gz' },
] as const;

/** Writes `file.br` and `file.gz` beside every text file of `dir` big enough to gain; returns how many files. */
export async function precompressBuild(dir: string): Promise<number> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  const files = entries
    .filter((entry) => entry.isFile() && compressibleExtensions.has(path.extname(entry.name)))
    .map((entry) => path.join(entry.parentPath, entry.name));
  let compressed = 0;
  for (const file of files) {
    const content = await readFile(file);
    if (content.length < smallestWorthIt) continue;
    const [br, gz] = await Promise.all([
      brotli(content, {
        params: {
          [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
          [constants.BROTLI_PARAM_SIZE_HINT]: content.length,
        },
      }),
      gzipped(content, { level: constants.Z_BEST_COMPRESSION }),
    ]);
    // a copy no smaller than the file would only cost the browser a decode
    if (br.length < content.length) await writeFile(`${file}.br`, br);
    if (gz.length < content.length) await writeFile(`${file}.gz`, gz);
    compressed++;
  }
  return compressed;
}

/**
 * The encoding to send for an `Accept-Encoding` header: brotli, else gzip, else none. Honours
 * `q=0` (refused); otherwise order of preference is ours, as browsers list both without weights.
 */
export function chooseEncoding(acceptEncoding: string | undefined): 'br' | 'gzip' | undefined {
  if (!acceptEncoding) return undefined;
  const accepted = new Map<string, number>();
  for (const part of acceptEncoding.split(',')) {
    const [name, ...params] = part.trim().toLowerCase().split(';');
    if (!name) continue;
    const q = params.map((param) => /^\s*q=([0-9.]+)\s*$/.exec(param)?.[1]).find(Boolean);
    accepted.set(name, q === undefined ? 1 : Number(q));
  }
  const acceptable = (name: string) => (accepted.get(name) ?? accepted.get('*') ?? 0) > 0;
  if (acceptable('br')) return 'br';
  if (acceptable('gzip')) return 'gzip';
  return undefined;
}
