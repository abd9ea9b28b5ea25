import type { Static, TObject, TSchema } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** Thrown at boot when a service's configuration is wrong; the message names every bad key. */
export class ConfigError extends Error {
  override name = 'ConfigError';
  constructor(readonly problems: readonly string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

/** `databaseUrl` with prefix `TRIAGE` is read from `TRIAGE_DATABASE_URL`. */
export function envName(prefix: string, key: string): string {
  return `${prefix}_${key.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toUpperCase()}`;
}

/**
 * Loads a service's configuration from environment variables named `PREFIX_KEY`, once, at boot.
 * Strict: a variable with the service's prefix that the schema does not know fails (a typo never
 * silently falls back to a default), and so does a missing required key. Defaults come from the schema.
 */
export function loadConfig<T extends TObject>(
  schema: T,
  prefix: string,
  env: Record<string, string | undefined> = process.env,
): Static<T> {
  const properties = schema.properties as Record<string, TSchema>;
  const byEnvName = new Map(Object.keys(properties).map((key) => [envName(prefix, key), key]));
  const problems: string[] = [];
  const raw: Record<string, unknown> = {};

  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith(`${prefix}_`) || value === undefined) continue;
    const key = byEnvName.get(name);
    if (key === undefined) {
      problems.push(`${name}: unknown key (known: ${[...byEnvName.keys()].join(', ')})`);
      continue;
    }
    raw[key] = value;
  }

  const withDefaults = Value.Default(schema, Value.Convert(schema, raw)) as Record<string, unknown>;
  for (const key of Object.keys(properties)) {
    if (withDefaults[key] === undefined && (schema.required ?? []).includes(key)) {
      problems.push(`${envName(prefix, key)}: required but not set`);
    }
  }
  if (problems.length === 0) {
    for (const error of Value.Errors(schema, withDefaults)) {
      const key = error.path.split('/')[1] ?? '';
      problems.push(
        `${key ? envName(prefix, key) : prefix}: ${error.message} (got ${JSON.stringify(error.value)})`,
      );
    }
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return withDefaults;
}
