import { ConfigError } from '@gpc/contracts';
import { createMeshServer } from './app';
import { loadMeshServerConfig, readMailboxesFile, type MeshServerConfig } from './config';

function fail(message: string): never {
  process.stderr.write(`local MESH: ${message}\n`);
  process.exit(1);
}

let config: MeshServerConfig;
let mailboxes;
try {
  config = loadMeshServerConfig();
  mailboxes = readMailboxesFile(config.mailboxesFile);
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}

const mesh = createMeshServer({
  sharedKey: config.sharedKey,
  mailboxes,
  dataFile: config.dataFile,
  maxClockSkewMs: config.maxClockSkewMs,
});
mesh.server.once('error', (error: NodeJS.ErrnoException) => {
  fail(
    error.code === 'EADDRINUSE'
      ? `port ${config.port} is already in use`
      : `cannot listen on ${config.host}:${config.port}: ${error.message}`,
  );
});
mesh.server.listen(config.port, config.host, () => {
  process.stdout.write(
    `local MESH listening on http://${config.host}:${config.port}/messageexchange (mailboxes ${mailboxes.map((m) => m.mailboxId).join(', ')})\n`,
  );
});

const stop = () => void mesh.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
