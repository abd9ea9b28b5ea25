/**
 * `secrets:rotate` where triage runs, in triage's environment: re-encrypts every practice's stored
 * credentials under TRIAGE_SECRETS_CURRENT_KID and encrypts any still in plain text. Run it after
 * adding a new key to TRIAGE_SECRETS_KEYS and RECORD_SECRETS_KEYS and making it current in both (and
 * restarting them); once it reports none left under the old key, drop the old key from both.
 *
 *   node --import tsx triage/src/secrets/rotate-cli.ts
 *
 * Reads TRIAGE_DATABASE_URL, TRIAGE_SECRETS_KEYS and TRIAGE_SECRETS_CURRENT_KID (the rest of triage's
 * configuration is not its business). Prints counts and practice ids, never a value. Exits 1 when a
 * credential could not be read (its practice's admin enters it again), 0 otherwise; a second run
 * changes nothing.
 */
import pg from 'pg';
import { Type } from '@sinclair/typebox';
import { loadConfig, loadConfigOrExit } from '@gpc/contracts';
import { SecretsConfigFields, secretKeyringFrom } from '@gpc/contracts/secrets';
import { describeRotation, rotatePracticeSecrets } from './rotate';

const RotateConfigSchema = Type.Object(
  {
    databaseUrl: Type.String({ minLength: 1 }),
    secretsKeys: SecretsConfigFields.secretsKeys,
    secretsCurrentKid: SecretsConfigFields.secretsCurrentKid,
  },
  { additionalProperties: false },
);
const names = ['TRIAGE_DATABASE_URL', 'TRIAGE_SECRETS_KEYS', 'TRIAGE_SECRETS_CURRENT_KID'];

const { config, keyring } = loadConfigOrExit('secrets:rotate', () => {
  const env = Object.fromEntries(names.map((name) => [name, process.env[name]]));
  const loaded = loadConfig(RotateConfigSchema, 'TRIAGE', env);
  return { config: loaded, keyring: secretKeyringFrom(loaded, 'TRIAGE') };
});
if (!keyring) {
  process.stderr.write('secrets:rotate: TRIAGE_SECRETS_KEYS and TRIAGE_SECRETS_CURRENT_KID must be set\n');
  process.exit(1);
}
const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
try {
  const report = await rotatePracticeSecrets(pool, keyring);
  process.stdout.write(describeRotation(report));
  process.exitCode = report.unreadable.length > 0 ? 1 : 0;
} finally {
  await pool.end();
}
