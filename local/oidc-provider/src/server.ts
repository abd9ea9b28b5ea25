import { readFileSync } from 'node:fs';
import { Value } from '@sinclair/typebox/value';
import { pino } from 'pino';
import { ConfigError } from '@gpc/contracts';
import { startLocalOidcProvider, type RunningOidcProvider } from './app';
import {
  ClientsFileSchema,
  loadOidcProviderConfig,
  type ClientsFile,
  type OidcProviderConfig,
} from './config';

function fail(message: string): never {
  process.stderr.write(`local OIDC provider: ${message}\n`);
  process.exit(1);
}

let config: OidcProviderConfig;
try {
  config = loadOidcProviderConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}

function readClients(file: string): ClientsFile {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    fail(`cannot read the clients file ${file}: ${(error as Error).message}`);
  }
  const problem = Value.Errors(ClientsFileSchema, parsed).First();
  if (problem) fail(`the clients file ${file} is not valid at ${problem.path}: ${problem.message}`);
  return parsed as ClientsFile;
}

const logger = pino({ base: { service: 'local-oidc-provider' } });
const clients = readClients(config.clientsFile);
let running: RunningOidcProvider;
try {
  running = await startLocalOidcProvider({
    host: config.host,
    port: config.port,
    ...(config.publicUrl ? { publicUrl: config.publicUrl } : {}),
    nhsLogin: { clients: clients['nhs-login'] },
    cis2: { clients: clients.cis2 ?? [] },
    logger,
  });
} catch (error) {
  const code = (error as NodeJS.ErrnoException).code;
  fail(
    code === 'EADDRINUSE'
      ? `port ${config.port} is already in use`
      : `cannot listen on ${config.host}:${config.port}: ${(error as Error).message}`,
  );
}
logger.info({ issuers: running.issuers }, 'local OIDC provider listening');

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  await running.close();
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
