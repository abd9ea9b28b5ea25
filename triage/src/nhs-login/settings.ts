import { Type } from '@sinclair/typebox';
import type { JWK } from 'jose';
import { ConfigError, envName } from '@gpc/contracts';
import type { NhsLoginSettings } from './client';

/** Triage's configuration for NHS login: all five, or none (NHS login off). */
export const NhsLoginConfigFields = {
  /** NHS login's issuer identifier (its discovery document is under it). */
  nhsLoginIssuer: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** The client id NHS login gave this service. */
  nhsLoginClientId: Type.Optional(Type.String({ minLength: 1 })),
  /** The private key client assertions are signed with: an RSA JWK, as JSON. */
  nhsLoginPrivateKey: Type.Optional(Type.String({ minLength: 1 })),
  /** The `kid` the public half is registered under. */
  nhsLoginKid: Type.Optional(Type.String({ minLength: 1 })),
  /** The redirect URI registered with NHS login: this service's `/nhs-login/callback`, as browsers reach it. */
  nhsLoginRedirectUri: Type.Optional(Type.String({ pattern: '^https?://' })),
};

type NhsLoginConfig = { [Key in keyof typeof NhsLoginConfigFields]?: string };
const keys = Object.keys(NhsLoginConfigFields) as (keyof typeof NhsLoginConfigFields)[];

/**
 * NHS login's settings, or undefined when none is set (off). Half a set-up, or a key that is not a
 * private RSA JWK, is a configuration error naming the variables, not "off".
 */
export function nhsLoginSettingsFrom(config: NhsLoginConfig): NhsLoginSettings | undefined {
  const given = keys.filter((key) => config[key] !== undefined);
  if (given.length === 0) return undefined;
  if (given.length < keys.length) {
    throw new ConfigError(
      keys
        .filter((key) => config[key] === undefined)
        .map((key) => `${envName('TRIAGE', key)}: required when any TRIAGE_NHS_LOGIN_* is set`),
    );
  }
  let privateKey: JWK;
  try {
    privateKey = JSON.parse(config.nhsLoginPrivateKey!) as JWK;
  } catch {
    throw new ConfigError([`${envName('TRIAGE', 'nhsLoginPrivateKey')}: not JSON (a private RSA JWK)`]);
  }
  if (privateKey.kty !== 'RSA' || typeof privateKey.d !== 'string')
    throw new ConfigError([`${envName('TRIAGE', 'nhsLoginPrivateKey')}: not a private RSA JWK`]);
  return {
    issuer: config.nhsLoginIssuer!.replace(/\/$/, ''),
    clientId: config.nhsLoginClientId!,
    privateKey,
    kid: config.nhsLoginKid!,
    redirectUri: config.nhsLoginRedirectUri!,
  };
}
