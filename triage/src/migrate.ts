// Applies triage's database migrations, then exits: the command of a deployment's migration Job
// (deploy/kubernetes), run before a new version's pods. triage still migrates at start as well (a
// no-op once the Job has run; node-pg-migrate's advisory lock keeps two runs apart).
import { Type, type Static } from '@sinclair/typebox';
import { envName, loadConfig, loadConfigOrExit } from '@gpc/contracts';
import { TriageConfigSchema } from './config';
import { prepareDatabase } from './db/prepare';
import { createTriageLogger } from './logger';

const MigrateConfigSchema = Type.Object(
  {
    databaseUrl: TriageConfigSchema.properties.databaseUrl,
    logLevel: TriageConfigSchema.properties.logLevel,
  },
  { additionalProperties: false },
);

/**
 * Reads only TRIAGE_DATABASE_URL and TRIAGE_LOG_LEVEL, so the Job needs no other secret, and the same
 * command runs with triage's whole environment (the other TRIAGE_* are not this command's to check).
 */
function loadMigrateConfig(env: Record<string, string | undefined>): Static<typeof MigrateConfigSchema> {
  const names = Object.keys(MigrateConfigSchema.properties).map((key) => envName('TRIAGE', key));
  return loadConfig(
    MigrateConfigSchema,
    'TRIAGE',
    Object.fromEntries(names.map((name) => [name, env[name]])),
  );
}

const config = loadConfigOrExit('triage migrate', () => loadMigrateConfig(process.env));
const logger = createTriageLogger(config.logLevel);
try {
  // waits while PostgreSQL is not answering, as triage does; a failing migration exits 1
  await prepareDatabase(config.databaseUrl, logger);
  logger.info('migrations applied');
} catch (error) {
  process.stderr.write(`triage migrate: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
}
