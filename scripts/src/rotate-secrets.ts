import pg from 'pg';
import { describeRotation, rotatePracticeSecrets } from '@gpc/triage';
import { addDevSecretsKey, devSecretsKeyring } from './dev-secrets-keys';
import { loadLocalSettings, log } from './settings';

/**
 * `npm run secrets:rotate [-- --new-key]` on a developer's machine: re-encrypts every practice's
 * stored credentials in the local database under this checkout's current key (and any in plain
 * text); `--new-key` first adds a fresh key and makes it current, as an operator would. A deployment
 * runs `triage/src/secrets/rotate-cli.ts` in triage's environment instead. Prints counts, never values.
 */
export async function rotateSecrets(args: string[]): Promise<number> {
  const unknown = args.filter((arg) => arg !== '--new-key');
  if (unknown.length > 0) {
    process.stderr.write(`usage: npm run secrets:rotate [-- --new-key] (unknown: ${unknown.join(' ')})\n`);
    return 2;
  }
  const settings = loadLocalSettings();
  if (args.includes('--new-key')) {
    const kid = addDevSecretsKey(settings.stateDir);
    log(`added key ${kid} and made it current; restart npm start so triage and the record worker use it`);
  }
  const pool = new pg.Pool({ connectionString: settings.databaseUrl, max: 2 });
  try {
    const report = await rotatePracticeSecrets(pool, devSecretsKeyring(settings.stateDir));
    process.stdout.write(describeRotation(report));
    return report.unreadable.length > 0 ? 1 : 0;
  } finally {
    await pool.end();
  }
}
