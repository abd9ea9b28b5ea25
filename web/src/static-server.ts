// The production web server: serves the built pages (`vite build`, src/build.ts) from WEB_DIST_DIR
// (web/dist) with their security headers, and passes /api, /staff-live and /socket.io on to
// triage and signalling. A reverse proxy in front terminates TLS; WEB_PUBLIC_URL says it is https.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { listenFailure, loadConfigOrExit, stopOnSignal } from '@gpc/contracts';
import { redisCallNodes } from './call-nodes';
import { loadWebConfig } from './config';
import { createStaticServer } from './static-app';

const config = loadConfigOrExit('web', loadWebConfig);
const distDir = config.distDir ?? path.join(path.dirname(fileURLToPath(import.meta.url)), '../dist');
if (!existsSync(path.join(distDir, 'index.html'))) {
  process.stderr.write(`web: no build in ${distDir} (build it first: npm run build -w web)\n`);
  process.exit(1);
}

// the call nodes that announce themselves in Redis, for `/call-node/<id>/socket.io`
const callNodes = config.redisUrl ? redisCallNodes(config.redisUrl) : undefined;
const server = createStaticServer({
  distDir,
  triageUrl: config.triageUrl,
  signallingUrl: config.signallingUrl,
  publicUrl: config.publicUrl,
  ...(config.storageUrl ? { storageUrl: config.storageUrl } : {}),
  ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
  ...(callNodes ? { callNodes } : {}),
});
server.once('error', (error) => {
  process.stderr.write(`${listenFailure('web', config.port, error)}\n`);
  process.exit(1);
});
server.listen(config.port, config.host, () => {
  process.stdout.write(
    `web (built pages from ${distDir}) listening on http://${config.host}:${config.port}/ ` +
      `(/api -> ${config.triageUrl}, /socket.io -> ${config.signallingUrl}` +
      `${callNodes ? ', /call-node/<id> -> the call nodes in Redis' : ''})\n`,
  );
});

stopOnSignal(async () => {
  server.closeIdleConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  callNodes?.close();
  process.exit(0);
});
