import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { ConfigError } from '@gpc/contracts';
import { createPdsServer, PDS_BASE_PATH } from './app';
import { loadPdsServerConfig, type PdsServerConfig } from './config';

function fail(message: string): never {
  process.stderr.write(`local PDS: ${message}\n`);
  process.exit(1);
}

let config: PdsServerConfig;
try {
  config = loadPdsServerConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}

let jwks: JSONWebKeySet;
try {
  jwks = JSON.parse(readFileSync(config.jwksFile, 'utf8')) as JSONWebKeySet;
  if (!Array.isArray(jwks.keys)) throw new Error('no "keys" array');
} catch (error) {
  fail(`cannot read the public keys in ${config.jwksFile}: ${(error as Error).message}`);
}

const pds = createPdsServer({ apiKey: config.apiKey, jwks });
pds.server.once('error', (error: NodeJS.ErrnoException) => {
  fail(
    error.code === 'EADDRINUSE'
      ? `port ${config.port} is already in use`
      : `cannot listen on ${config.host}:${config.port}: ${error.message}`,
  );
});
pds.server.listen(config.port, config.host, () => {
  process.stdout.write(`local PDS listening on http://${config.host}:${config.port}${PDS_BASE_PATH}\n`);
});

const stop = () => void pds.close().then(() => process.exit(0));
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
