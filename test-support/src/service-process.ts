/**
 * Services as production runs them, each its own process (`<package>/src/server.ts`), for the fault
 * tests that crash or kill them. One signing key per test process, so a test can mint the staff
 * tokens triage would.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { defaultTokenIssuer, type StaffRole } from '@gpc/contracts';
import { generateSigningKey, TokenKeys } from '@gpc/triage';
import { staffClaims, type SeededPractice } from './practices';
import { track, type ChildService } from './processes';
import { testSecretsEnv } from './secrets';
import { waitFor } from './wait';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** The key triage processes started here sign with (and publish at their JWKS). */
export const processSigningKey = generateSigningKey();
const tokenKeys = new TokenKeys([processSigningKey], defaultTokenIssuer);

/** Starts `entry` (relative to the repo) under tsx with only PATH and `env` in its environment. */
export function spawnServiceProcess(entry: string, env: Record<string, string>): ChildService {
  return track(
    spawn(process.execPath, ['--import', 'tsx', entry], {
      cwd: repoRoot,
      env: { PATH: process.env.PATH ?? '', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
}

/** Triage's settings that no fault test varies: loopback, the test key, no S3, quiet logs. */
export function triageProcessEnv(): Record<string, string> {
  return {
    TRIAGE_HOST: '127.0.0.1',
    TRIAGE_SIGNING_KEYS: JSON.stringify({ keys: [processSigningKey] }),
    TRIAGE_S3_BUCKET: 'unused-bucket',
    TRIAGE_S3_ACCESS_KEY_ID: 'unused',
    TRIAGE_S3_SECRET_ACCESS_KEY: 'unused',
    TRIAGE_LOG_LEVEL: 'warn',
    TRIAGE_OUTBOUND_ALLOW_LOOPBACK_HTTP: 'true',
    ...testSecretsEnv('TRIAGE'),
  };
}

/** Triage's own process; `env` (its port, database and Redis at least) is laid over `triageProcessEnv()`. */
export function spawnTriageProcess(env: Record<string, string>): ChildService {
  return spawnServiceProcess('triage/src/server.ts', { ...triageProcessEnv(), ...env });
}

/**
 * Waits for a triage process started here to serve, and to be the one answering (its signing key at
 * its JWKS), not another test's on a port freed and taken again meanwhile; fails at once if it exits.
 */
export async function waitForTriageProcess(
  triage: ChildService,
  url: string,
  timeoutMs = 60_000,
): Promise<void> {
  await waitFor(
    () => `triage at ${url} to serve: ${triage.output()}`,
    async () => {
      if (triage.child.exitCode !== null) throw new Error(`triage exited: ${triage.output()}`);
      const response = await fetch(`${url}/.well-known/jwks.json`).catch(() => undefined);
      if (response?.status !== 200) return false;
      const { keys } = (await response.json()) as { keys: { kid?: string }[] };
      return keys.some((key) => key.kid === processSigningKey.kid);
    },
    { timeoutMs, intervalMs: 200 },
  );
}

/** An access token for one of the practice's seeded staff, as triage's sign-in would give. */
export function processStaffToken(practice: SeededPractice, role: StaffRole = 'clinician'): string {
  return tokenKeys.sign('staff', staffClaims(practice, role), 3600);
}
