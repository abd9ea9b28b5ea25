import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LocalSettings } from './settings';

/**
 * NHS CIS2 staff sign-in on a developer's machine: the local OIDC provider's `/cis2` issuer with
 * triage registered as its relying party. Triage's client key pair is made once per checkout in the
 * state folder (the private half for triage, the public half in the provider's clients file); the
 * redirect URI is the web server's `/api/auth/cis2/callback` (proxied to triage). The development
 * practice lets its staff sign in with it (dev-seed.ts); the stand-in's sign-in page lists its test
 * staff. In production these are CIS2's issuer and the client id and key registered with it.
 */

const host = '127.0.0.1';
export const devCis2ClientId = 'gp-consult-development-cis2';

interface DevCis2Key {
  kid: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
}

function devCis2Key(stateDir: string): DevCis2Key {
  const file = path.join(stateDir, 'cis2-client-key.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevCis2Key;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `dev-cis2-${randomBytes(4).toString('hex')}`;
  const key: DevCis2Key = {
    kid,
    privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS512' },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS512', use: 'sig' },
  };
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  return key;
}

export const cis2Issuer = (settings: LocalSettings): string => `http://${host}:${settings.oidcPort}/cis2`;
const redirectUri = (settings: LocalSettings): string =>
  `http://${host}:${settings.webPort}/api/auth/cis2/callback`;

/** Triage as the `/cis2` issuer's relying party, for the provider's clients file. */
export function cis2ClientRegistration(settings: LocalSettings): Record<string, unknown> {
  return {
    clientId: devCis2ClientId,
    clientName: 'GP Consult staff (development)',
    redirectUris: [redirectUri(settings)],
    jwks: { keys: [devCis2Key(settings.stateDir).publicJwk] },
  };
}

/**
 * Triage signs staff in with the local provider's `/cis2`, with its development key, asking for
 * AAL2 or AAL3 so every test member of staff (the receptionist's authenticator is AAL2) can try it.
 */
export function localCis2Env(settings: LocalSettings): Record<string, string> {
  const key = devCis2Key(settings.stateDir);
  return {
    TRIAGE_CIS2_ISSUER: cis2Issuer(settings),
    TRIAGE_CIS2_CLIENT_ID: devCis2ClientId,
    TRIAGE_CIS2_PRIVATE_KEY: JSON.stringify(key.privateJwk),
    TRIAGE_CIS2_KID: key.kid,
    TRIAGE_CIS2_REDIRECT_URI: redirectUri(settings),
    TRIAGE_CIS2_ACR_VALUES: 'AAL2_OR_AAL3_ANY',
  };
}
