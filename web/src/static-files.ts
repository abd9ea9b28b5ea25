// The built pages and their files as the production server sends them: each page with its own
// security headers (its CSP, with frame-ancestors for the form from the practice's websites, and its
// permissions), hashed assets cached for a year, and the build's brotli or gzip copy to a browser
// that takes it (src/precompress.ts).
import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import path from 'node:path';
import type { EmbeddingOrigins } from './embedding';
import { chooseEncoding, compressibleExtensions, precompressedEncodings } from './precompress';
import { contentSecurityPolicy, permissionsPolicy, resourceContentSecurityPolicy } from './security-headers';

/** What serving the build needs to know: where it is, and what the pages' policies allow. */
export interface BuildFiles {
  distDir: string;
  /** Patients reach the site over https (the policy upgrades insecure requests). */
  https: boolean;
  /** Origins the pages may send to besides their own (presigned uploads). */
  connectSources: string[];
  /** Where the form page's frame-ancestors come from. */
  embedding: EmbeddingOrigins;
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

/** Answers a GET or HEAD for a file of the build: 404 outside it, 405 for other methods. */
export async function serveBuildFile(
  build: BuildFiles,
  request: IncomingMessage,
  response: ServerResponse,
  url: URL,
): Promise<void> {
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.setHeader('allow', 'GET, HEAD');
    return plain(response, 405, 'Method not allowed');
  }
  const file = await findFile(build.distDir, url.pathname);
  if (!file) return plain(response, 404, 'Not found');
  const extension = path.extname(file.path);
  const page = extension === '.html' ? path.basename(file.path) : undefined;
  const headers = page
    ? await pageHeaders(build, page, url)
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

/** The page's own headers: its CSP (frame-ancestors from the practice for the form) and permissions. */
async function pageHeaders(build: BuildFiles, page: string, url: URL): Promise<Record<string, string>> {
  // the form may be framed by the practice's own websites, and by the widget demo on our origin
  const frameAncestors =
    page === 'form.html' ? await formFrameAncestors(build, url.searchParams.get('practice')) : [];
  return {
    'content-security-policy': contentSecurityPolicy({
      frameAncestors,
      connectSources: build.connectSources,
      https: build.https,
    }),
    'permissions-policy': permissionsPolicy(page),
    'cache-control': 'no-cache',
  };
}

async function formFrameAncestors(build: BuildFiles, ods: string | null): Promise<string[]> {
  const origins = await build.embedding.of(ods);
  return origins.length ? ["'self'", ...origins] : [];
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

/** A short plain-text answer, under the policy for resources. */
export function plain(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'content-type': 'text/plain; charset=utf-8',
    'content-security-policy': resourceContentSecurityPolicy,
  });
  response.end(text);
}
