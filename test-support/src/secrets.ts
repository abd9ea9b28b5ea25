import {
  newSecretsKeyEntry,
  sealPracticeSecrets,
  secretKeyringFrom,
  type PracticeSecretColumn,
  type SecretKeyring,
} from '@gpc/contracts/secrets';

/**
 * The keys tests run triage and the record worker with: one random key per test process, as
 * `kid:base64key` entries and the current kid (for a service run as a process: `*_SECRETS_KEYS`,
 * `*_SECRETS_CURRENT_KID`), and the keyring made from them (for an app built in the test).
 */
export const testSecretsConfig = { secretsKeys: newSecretsKeyEntry('test-1'), secretsCurrentKid: 'test-1' };
export const testSecretsKeyring: SecretKeyring = secretKeyringFrom(testSecretsConfig, 'TEST')!;

/** A service's `PREFIX_SECRETS_*` environment for the test keys. */
export const testSecretsEnv = (prefix: 'TRIAGE' | 'RECORD'): Record<string, string> => ({
  [`${prefix}_SECRETS_KEYS`]: testSecretsConfig.secretsKeys,
  [`${prefix}_SECRETS_CURRENT_KID`]: testSecretsConfig.secretsCurrentKid,
});

/**
 * A setting as triage stores it (its credential encrypted for the practice), for a test that writes
 * `practice.fhir_auth` or `practice.notification_settings` itself.
 */
export function storedSetting<T>(
  practiceId: string,
  column: PracticeSecretColumn,
  value: T,
  keyring: SecretKeyring = testSecretsKeyring,
): string {
  return JSON.stringify(sealPracticeSecrets(keyring, practiceId, column, value));
}
