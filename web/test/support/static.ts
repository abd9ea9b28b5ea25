import { rmSync } from 'node:fs';
import { mkdtemp, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { buildPages } from '../../src/build';
import { createStaticServer, type StaticServerOptions } from '../../src/static-app';

let built: Promise<string> | undefined;

/**
 * The production build of the pages (`vite build`). `npm test` builds once for every test file and
 * says where in `TEST_WEB_DIST`; a file run alone builds its own, once per test process, into a
 * folder of its own (never web/dist, which a developer's build owns), removed at exit.
 */
export function builtPages(): Promise<string> {
  built ??= (async () => {
    const shared = process.env.TEST_WEB_DIST;
    if (shared) {
      // a missing or half-made build must fail here, not as a page that never loads
      if (!(await stat(path.join(shared, 'index.html')).catch(() => undefined)))
        throw new Error(`TEST_WEB_DIST=${shared} holds no built pages (no index.html)`);
      return shared;
    }
    const outDir = await mkdtemp(path.join(tmpdir(), 'gpc-web-dist-'));
    // only synchronous work runs at exit: an rm() promise there never finished, leaving the folder
    process.once('exit', () => rmSync(outDir, { recursive: true, force: true }));
    await buildPages({ outDir, logLevel: 'error' });
    return outDir;
  })();
  return built;
}

export interface RunningStaticServer {
  /** Base URL with a trailing slash, e.g. `http://127.0.0.1:40123/`. */
  url: string;
  close(): Promise<void>;
}

/** The production web server on a free port of 127.0.0.1, serving the build with its security headers. */
export async function startStaticServer(
  options: Omit<StaticServerOptions, 'distDir' | 'signallingUrl' | 'publicUrl'> &
    Partial<Pick<StaticServerOptions, 'signallingUrl' | 'publicUrl'>> & {
      /** A port chosen beforehand (when triage must know the address first); a free one otherwise. */
      port?: number;
    },
): Promise<RunningStaticServer> {
  const { port = 0, ...serverOptions } = options;
  const server = createStaticServer({
    distDir: await builtPages(),
    signallingUrl: 'http://127.0.0.1:9',
    publicUrl: 'http://127.0.0.1',
    ...serverOptions,
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  return {
    url,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
