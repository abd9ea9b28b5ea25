import { ConfigError } from '@gpc/contracts';
import { createWebServer } from './app';
import { loadWebConfig, type WebConfig } from './config';

let config: WebConfig;
try {
  config = loadWebConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  process.stderr.write(`web: ${error.message}\n`);
  process.exit(1);
}

/** One line a person can act on; vite's strictPort error carries no code, only this message. */
function listenFailure(error: unknown, { host, port }: WebConfig): string {
  const message = error instanceof Error ? error.message : String(error);
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  if (code === 'EADDRINUSE' || /already in use/.test(message)) {
    return `web: port ${port} on ${host} is already in use (stop whatever holds it, or set WEB_PORT)`;
  }
  return `web: cannot listen on ${host}:${port}: ${message}`;
}

const server = await createWebServer(config);
try {
  await server.listen();
} catch (error) {
  // Exit straight away: closing first only adds vite's complaints about its interrupted dependency scan.
  process.stderr.write(`${listenFailure(error, config)}\n`);
  process.exit(1);
}
const url = server.resolvedUrls?.local[0] ?? `http://${config.host}:${config.port}/`;
process.stdout.write(
  `web (vite dev server) listening on ${url} (/api -> ${config.triageUrl}, /socket.io -> ${config.signallingUrl})\n`,
);

let stopping = false;
const stop = (): void => {
  if (stopping) return;
  stopping = true;
  // Vite closes and exits on SIGTERM by itself too, keeping an exit code already set: a requested stop is a success.
  process.exitCode = 0;
  server.close().then(
    () => process.exit(),
    (error: unknown) => {
      process.stderr.write(`web: error while stopping: ${String(error)}\n`);
      process.exit(1);
    },
  );
};
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
