import { readFileSync } from 'node:fs';
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

if (Boolean(config.tlsCertFile) !== Boolean(config.tlsKeyFile))
  fail('MESH_TLS_CERT_FILE and MESH_TLS_KEY_FILE go together');
if (config.tlsCaFile && !config.tlsCertFile)
  fail('MESH_TLS_CA_FILE needs MESH_TLS_CERT_FILE and MESH_TLS_KEY_FILE');
const read = (file: string) => {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    fail(`cannot read ${file}: ${(error as Error).message}`);
  }
};
const tls =
  config.tlsCertFile && config.tlsKeyFile
    ? {
        cert: read(config.tlsCertFile),
        key: read(config.tlsKeyFile),
        ca: config.tlsCaFile ? read(config.tlsCaFile) : undefined,
      }
    : undefined;
const scheme = tls ? 'https' : 'http';

const mesh = createMeshServer({
  sharedKey: config.sharedKey,
  mailboxes,
  dataFile: config.dataFile,
  maxClockSkewMs: config.maxClockSkewMs,
  tls,
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
    `local MESH listening on ${scheme}://${config.host}:${config.port}/messageexchange (mailboxes ${mailboxes.map((m) => m.mailboxId).join(', ')})\n`,
  );
});

const stop = () => void mesh.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
