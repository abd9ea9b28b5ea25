import { Type } from '@sinclair/typebox';
import type { JWK } from 'jose';
import { ConfigError, envName } from '@gpc/contracts';
import { cis2AcrValuesPattern, type Cis2Settings } from './client';

/** Triage's configuration for NHS CIS2 staff sign-in: the five, or none (CIS2 off); the level is optional. */
export const Cis2ConfigFields = {
  /** CIS2's issuer identifier (its discovery document is under it), e.g. the Healthcare realm's. */
  cis2Issuer: Type.Optional(Type.String({ pattern: '^https?://' })),
  /** The client id CIS2 gave this service. */
  cis2ClientId: Type.Optional(Type.String({ minLength: 1 })),
  /** The private key client assertions are signed with: an RSA JWK, as JSON. */
  cis2PrivateKey: Type.Optional(Type.String({ minLength: 1 })),
  /** The `kid` the public half is registered under. */
  cis2Kid: Type.Optional(Type.String({ minLength: 1 })),
  /** The redirect URI registered with CIS2: this service's `/auth/cis2/callback`, as browsers reach it. */
  cis2RedirectUri: Type.Optional(Type.String({ pattern: '^https?://' })),
  /**
   * The assurance level asked for (`acr_values`): `AAL3_ANY` (the default: smartcards and other
   * AAL3 authenticators) or `AAL2_OR_AAL3_ANY`.
   */
  cis2AcrValues: Type.Optional(Type.String({ pattern: cis2AcrValuesPattern })),
};

type Cis2Config = { [Key in keyof typeof Cis2ConfigFields]?: string };
const keys = ['cis2Issuer', 'cis2ClientId', 'cis2PrivateKey', 'cis2Kid', 'cis2RedirectUri'] as const;

/**
 * CIS2's settings, or undefined when none is set (off). Half a set-up, or a key that is not a
 * private RSA JWK, is a configuration error naming the variables, not "off".
 */
export function cis2SettingsFrom(config: Cis2Config): Cis2Settings | undefined {
  const given = keys.filter((key) => config[key] !== undefined);
  if (given.length === 0) {
    if (config.cis2AcrValues !== undefined)
      throw new ConfigError([`${envName('TRIAGE', 'cis2AcrValues')}: set without the other TRIAGE_CIS2_*`]);
    return undefined;
  }
  if (given.length < keys.length) {
    throw new ConfigError(
      keys
        .filter((key) => config[key] === undefined)
        .map((key) => `${envName('TRIAGE', key)}: required when any TRIAGE_CIS2_* is set`),
    );
  }
  let privateKey: JWK;
  try {
    privateKey = JSON.parse(config.cis2PrivateKey!) as JWK;
  } catch {
    throw new ConfigError([`${envName('TRIAGE', 'cis2PrivateKey')}: not JSON (a private RSA JWK)`]);
  }
  if (privateKey.kty !== 'RSA' || typeof privateKey.d !== 'string')
    throw new ConfigError([`${envName('TRIAGE', 'cis2PrivateKey')}: not a private RSA JWK`]);
  return {
    issuer: config.cis2Issuer!.replace(/\/$/, ''),
    clientId: config.cis2ClientId!,
    privateKey,
    kid: config.cis2Kid!,
    redirectUri: config.cis2RedirectUri!,
    acrValues: config.cis2AcrValues ?? 'AAL3_ANY',
  };
}
