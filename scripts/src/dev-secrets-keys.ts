import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { secretKeyringFrom, type SecretKeyring } from '@gpc/contracts/secrets';

/** The development keys practices' credentials are encrypted under, newest (current) first. */
interface DevSecretsKeys {
  current: string;
  keys: { kid: string; key: string }[];
}

const fileOf = (stateDir: string) => path.join(stateDir, 'secrets-keys.json');

const newKey = () => ({
  kid: `dev-${randomBytes(4).toString('hex')}`,
  key: randomBytes(32).toString('base64'),
});

function save(stateDir: string, keys: DevSecretsKeys): DevSecretsKeys {
  writeFileSync(fileOf(stateDir), JSON.stringify(keys, null, 2), { mode: 0o600 });
  return keys;
}

/** This checkout's keys, made once in the state folder (so stored credentials survive restarts). */
function devSecretsKeys(stateDir: string): DevSecretsKeys {
  const file = fileOf(stateDir);
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevSecretsKeys;
  const first = newKey();
  return save(stateDir, { current: first.kid, keys: [first] });
}

/** The keys as a service's configuration takes them: `kid:base64key` entries and the current kid. */
function asConfig(keys: DevSecretsKeys): { secretsKeys: string; secretsCurrentKid: string } {
  return {
    secretsKeys: keys.keys.map(({ kid, key }) => `${kid}:${key}`).join(','),
    secretsCurrentKid: keys.current,
  };
}

/** `TRIAGE_SECRETS_*` or `RECORD_SECRETS_*`: both services get the same keys. */
export function devSecretsEnv(prefix: 'TRIAGE' | 'RECORD', stateDir: string): Record<string, string> {
  const { secretsKeys, secretsCurrentKid } = asConfig(devSecretsKeys(stateDir));
  return { [`${prefix}_SECRETS_KEYS`]: secretsKeys, [`${prefix}_SECRETS_CURRENT_KID`]: secretsCurrentKid };
}

/** The keyring the development services run with. */
export const devSecretsKeyring = (stateDir: string): SecretKeyring =>
  secretKeyringFrom(asConfig(devSecretsKeys(stateDir)), 'GPC')!;

/** Adds a fresh key and makes it current (the old ones stay, so what is stored under them still opens). */
export function addDevSecretsKey(stateDir: string): string {
  const keys = devSecretsKeys(stateDir);
  const added = newKey();
  save(stateDir, { current: added.kid, keys: [added, ...keys.keys] });
  return added.kid;
}
