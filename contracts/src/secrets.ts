/**
 * Practices' credentials at rest (GP-system client secrets and bearer tokens, the Notify API key,
 * the SMTP password): each secret field of `practice.fhir_auth` and `practice.notification_settings`
 * is stored as one string `enc:v1:<kid>:<iv>.<ciphertext>.<tag>` (base64url), AES-256-GCM under the
 * deployment's key `kid`, with associated data naming the practice and the field, so a value copied
 * into another practice's row (or another field) does not decrypt. The rest of each setting stays
 * readable, so settings pages still show it. Both triage (which stores them) and the record worker
 * (which files with them) hold the keys, from their own configuration (`*_SECRETS_KEYS`).
 *
 * Node only (node:crypto): imported as `@gpc/contracts/secrets`, never from the index the web uses.
 */
import { createCipheriv, createDecipheriv, createSecretKey, randomBytes, type KeyObject } from 'node:crypto';
import { Type } from '@sinclair/typebox';
import { ConfigError, envName } from './config';

/**
 * The keys in a service's configuration. `secretsKeys`: comma-separated `kid:base64key` entries, each
 * key 32 random bytes (e.g. `openssl rand -base64 32`), kid letters, digits, `-` or `_`;
 * `secretsCurrentKid`: the kid new values are encrypted under. Rotation: add a new key, make it
 * current (in every service), then run `secrets:rotate`; drop the old key once it reports none left.
 */
export const SecretsConfigFields = {
  secretsKeys: Type.Optional(Type.String({ minLength: 1 })),
  secretsCurrentKid: Type.Optional(Type.String({ minLength: 1 })),
};

const sealedPrefix = 'enc:v1:';
const kidPattern = /^[A-Za-z0-9_-]{1,64}$/;
const base64Pattern = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;
const sealedPattern =
  /^enc:v1:([A-Za-z0-9_-]{1,64}):([A-Za-z0-9_-]{16})\.([A-Za-z0-9_-]*)\.([A-Za-z0-9_-]{22})$/;

/** Which stored field a secret is: its practice and where it lives; bound into the ciphertext. */
export interface SecretContext {
  practiceId: string;
  /** e.g. `fhir_auth.clientSecret`. */
  field: string;
}

/** A stored secret that cannot be used: why, never the value. */
export class SecretUnreadable extends Error {
  override name = 'SecretUnreadable';
}

const associatedData = ({ practiceId, field }: SecretContext) =>
  Buffer.from(`gpc:practice-secret:v1:${practiceId}:${field}`, 'utf8');

/** Whether a stored value is an encrypted one (otherwise it is plain text from before encryption). */
export const isSealed = (value: string): boolean => value.startsWith(sealedPrefix);

/** The kid a sealed value was encrypted under; undefined for plain text. */
export const sealedKid = (value: string): string | undefined => sealedPattern.exec(value)?.[1];

/** The deployment's keys: seals under the current one, opens under any it holds. Holds no key in view. */
export class SecretKeyring {
  readonly #keys: ReadonlyMap<string, KeyObject>;
  readonly currentKid: string;

  constructor(keys: ReadonlyMap<string, Buffer>, currentKid: string) {
    const problems = keyProblems(keys, currentKid);
    if (problems.length > 0) throw new Error(problems.join('; '));
    this.#keys = new Map([...keys].map(([kid, key]) => [kid, createSecretKey(key)]));
    this.currentKid = currentKid;
  }

  get kids(): readonly string[] {
    return [...this.#keys.keys()];
  }

  /** Encrypts a secret for that practice's field, under the current key. */
  seal(plaintext: string, context: SecretContext): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv('aes-256-gcm', this.#keys.get(this.currentKid)!, iv);
    cipher.setAAD(associatedData(context));
    const ciphertext = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    const parts = [iv, ciphertext, cipher.getAuthTag()].map((part) => part.toString('base64url'));
    return `${sealedPrefix}${this.currentKid}:${parts.join('.')}`;
  }

  /**
   * The secret a stored value holds. Plain text (stored before encryption, until `secrets:rotate`
   * encrypts it) is returned as it is. Throws `SecretUnreadable` when it was encrypted under a key this
   * service lacks, or for another practice or field, or has been altered.
   */
  open(stored: string, context: SecretContext): string {
    if (!isSealed(stored)) return stored;
    const match = sealedPattern.exec(stored);
    if (!match) throw new SecretUnreadable(`the stored ${context.field} is not in a form this service reads`);
    const [, kid, iv, ciphertext, tag] = match as unknown as [string, string, string, string, string];
    const key = this.#keys.get(kid);
    if (!key) {
      throw new SecretUnreadable(
        `the stored ${context.field} was encrypted under key "${kid}", which this service is not configured with`,
      );
    }
    try {
      const decipher = createDecipheriv('aes-256-gcm', key, Buffer.from(iv, 'base64url'));
      decipher.setAAD(associatedData(context));
      decipher.setAuthTag(Buffer.from(tag, 'base64url'));
      return Buffer.concat([
        decipher.update(Buffer.from(ciphertext, 'base64url')),
        decipher.final(),
      ]).toString('utf8');
    } catch {
      throw new SecretUnreadable(
        `the stored ${context.field} does not decrypt: it was not stored for this practice, or it has been altered`,
      );
    }
  }

  /** Never the keys, whatever logs or prints this. */
  toJSON(): object {
    return { currentKid: this.currentKid, kids: this.kids };
  }

  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return `SecretKeyring(current ${this.currentKid}; ${this.kids.join(', ')})`;
  }
}

function keyProblems(keys: ReadonlyMap<string, Buffer>, currentKid: string): string[] {
  const problems: string[] = [];
  for (const [kid, key] of keys) {
    if (!kidPattern.test(kid)) problems.push(`key id "${kid}" is not letters, digits, - or _`);
    if (key.length !== 32) problems.push(`key "${kid}" is ${key.length} bytes; AES-256 needs 32`);
  }
  if (!keys.has(currentKid)) problems.push(`the current key id "${currentKid}" is not one of the keys`);
  return problems;
}

/**
 * The keyring a service's configuration gives (`PREFIX_SECRETS_KEYS`, `PREFIX_SECRETS_CURRENT_KID`);
 * undefined when neither is set (the service then cannot store or use practices' credentials).
 * Throws `ConfigError` naming the problem, never a key, when they are malformed: one without the
 * other, an entry not `kid:base64`, a key not 32 bytes, a kid given twice, a current kid not listed.
 */
export function secretKeyringFrom(
  config: { secretsKeys?: string | undefined; secretsCurrentKid?: string | undefined },
  prefix: string,
): SecretKeyring | undefined {
  const keysName = envName(prefix, 'secretsKeys');
  const currentName = envName(prefix, 'secretsCurrentKid');
  const { secretsKeys, secretsCurrentKid } = config;
  if (secretsKeys === undefined && secretsCurrentKid === undefined) return undefined;
  if (secretsKeys === undefined) throw new ConfigError([`${keysName}: required when ${currentName} is set`]);
  if (secretsCurrentKid === undefined)
    throw new ConfigError([`${currentName}: required when ${keysName} is set (the kid new values use)`]);
  const problems: string[] = [];
  const keys = new Map<string, Buffer>();
  secretsKeys.split(',').forEach((entry, index) => {
    const separator = entry.indexOf(':');
    const kid = entry.slice(0, Math.max(separator, 0)).trim();
    const encoded = entry.slice(separator + 1).trim();
    if (separator < 1 || !kidPattern.test(kid)) {
      problems.push(`${keysName}: entry ${index + 1} is not "kid:base64key" (kid: letters, digits, - or _)`);
    } else if (keys.has(kid)) {
      problems.push(`${keysName}: key id "${kid}" is given twice`);
    } else if (!base64Pattern.test(encoded)) {
      problems.push(`${keysName}: key "${kid}" is not base64`);
    } else {
      const key = Buffer.from(encoded, 'base64');
      if (key.length !== 32) problems.push(`${keysName}: key "${kid}" is ${key.length} bytes; it must be 32`);
      keys.set(kid, key);
    }
  });
  if (problems.length === 0 && !keys.has(secretsCurrentKid)) {
    problems.push(`${currentName}: "${secretsCurrentKid}" is not one of the key ids in ${keysName}`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return new SecretKeyring(keys, secretsCurrentKid);
}

/** Makes a `kid:base64key` entry with a fresh random key (development set-up, tests, operators). */
export const newSecretsKeyEntry = (kid: string): string => `${kid}:${randomBytes(32).toString('base64')}`;

/** The secret fields of each stored setting: only these are encrypted. */
export const practiceSecretFields = {
  fhir_auth: ['token', 'clientSecret'],
  notification_settings: ['apiKey', 'password'],
} as const;
export type PracticeSecretColumn = keyof typeof practiceSecretFields;

/** Applies `change` to each secret field present in a stored setting (a JSON object); a copy. */
function mapSecrets<T>(
  column: PracticeSecretColumn,
  value: T,
  change: (secret: string, field: string) => string,
): T {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return value;
  const copy: Record<string, unknown> = { ...(value as Record<string, unknown>) };
  for (const name of practiceSecretFields[column]) {
    const secret = copy[name];
    if (typeof secret === 'string') copy[name] = change(secret, `${column}.${name}`);
  }
  return copy as T;
}

const noKeyring = (field: string) =>
  new SecretUnreadable(`this service has no secrets key configured, so the ${field} cannot be used`);

/**
 * A setting as it is stored: its secret fields encrypted for the practice. Values already encrypted
 * are never encrypted again (a setting is stored as given or as read back, never half of each).
 */
export function sealPracticeSecrets<T>(
  keyring: SecretKeyring | undefined,
  practiceId: string,
  column: PracticeSecretColumn,
  value: T,
): T {
  return mapSecrets(column, value, (secret, field) => {
    if (isSealed(secret)) throw new SecretUnreadable(`the ${field} given is already encrypted`);
    if (!keyring) throw noKeyring(field);
    return keyring.seal(secret, { practiceId, field });
  });
}

/** A stored setting with its secrets decrypted, for the one use that needs them; throws `SecretUnreadable`. */
export function openPracticeSecrets<T>(
  keyring: SecretKeyring | undefined,
  practiceId: string,
  column: PracticeSecretColumn,
  stored: T,
): T {
  return mapSecrets(column, stored, (secret, field) => {
    if (!isSealed(secret)) return secret;
    if (!keyring) throw noKeyring(field);
    return keyring.open(secret, { practiceId, field });
  });
}

/**
 * A stored setting re-encrypted under the current key (plain text encrypted too); `changed` counts the
 * fields that were not already under the current key. Throws `SecretUnreadable` for one it cannot open.
 */
export function resealPracticeSecrets<T>(
  keyring: SecretKeyring,
  practiceId: string,
  column: PracticeSecretColumn,
  stored: T,
): { value: T; changed: number; fromPlaintext: number } {
  let changed = 0;
  let fromPlaintext = 0;
  const value = mapSecrets(column, stored, (secret, field) => {
    if (sealedKid(secret) === keyring.currentKid) {
      keyring.open(secret, { practiceId, field }); // still checked: a copied value is reported, not kept
      return secret;
    }
    changed++;
    if (!isSealed(secret)) fromPlaintext++;
    return keyring.seal(keyring.open(secret, { practiceId, field }), { practiceId, field });
  });
  return { value, changed, fromPlaintext };
}

/**
 * pino `redact` paths for practices' credentials, one or two levels down, wherever an entry might
 * carry them by mistake (a practice's settings, decrypted to send): for every service's logger.
 */
export const secretLogRedactPaths: readonly string[] = [
  'password',
  'apiKey',
  'clientSecret',
  'token',
  'auth',
  'fhirAuth',
  'fhir_auth',
].flatMap((key) => [`*.${key}`, `*.*.${key}`]);
