import { pino } from 'pino';
import { ConfigError } from '@gpc/contracts';
import { createFhirServer, FHIR_BASE_PATH, type FhirServer } from './app';
import { loadFhirServerConfig, type FhirServerConfig } from './config';

function fail(message: string): never {
  process.stderr.write(`local FHIR server: ${message}\n`);
  process.exit(1);
}

let config: FhirServerConfig;
try {
  config = loadFhirServerConfig();
} catch (error) {
  if (!(error instanceof ConfigError)) throw error;
  fail(error.message);
}

const logger = pino({ base: { service: 'local-fhir-server' } });
let app: FhirServer;
try {
  app = await createFhirServer({ logger, dataFile: config.dataFile });
} catch (error) {
  fail((error as Error).message); // e.g. an unreadable data file: say which, no stack trace
}

app.server.once('error', (error: NodeJS.ErrnoException) => {
  fail(
    error.code === 'EADDRINUSE'
      ? `port ${config.port} is already in use`
      : `cannot listen on ${config.host}:${config.port}: ${error.message}`,
  );
});
app.server.listen(config.port, config.host, () => {
  logger.info(
    { baseUrl: `http://${config.host}:${config.port}${FHIR_BASE_PATH}`, dataFile: config.dataFile ?? null },
    'local FHIR server listening',
  );
});

let stopping = false;
async function shutdown(): Promise<void> {
  if (stopping) return;
  stopping = true;
  try {
    await app.close(); // writes the data file
  } catch (error) {
    fail(`could not save on shutdown: ${(error as Error).message}`);
  }
  process.exit(0);
}
process.once('SIGINT', () => void shutdown());
process.once('SIGTERM', () => void shutdown());
