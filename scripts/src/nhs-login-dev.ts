import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cis2ClientRegistration } from './cis2-dev';
import type { ServiceSpec } from './services';
import type { LocalSettings } from './settings';

/**
 * NHS login on a developer's machine: the local OIDC provider (`local/oidc-provider`, issuer
 * `/nhs-login`) with triage registered as its client. Triage's client key pair is made once per
 * checkout in the state folder (the private half for triage, the public half in the provider's
 * clients file); the redirect URI is the web server's `/api/nhs-login/callback` (proxied to triage).
 */

const host = '127.0.0.1';
export const devNhsLoginClientId = 'gp-consult-development';

interface DevNhsLoginKey {
  kid: string;
  privateJwk: Record<string, unknown>;
  publicJwk: Record<string, unknown>;
}

function devNhsLoginKey(stateDir: string): DevNhsLoginKey {
  const file = path.join(stateDir, 'nhs-login-client-key.json');
  if (existsSync(file)) return JSON.parse(readFileSync(file, 'utf8')) as DevNhsLoginKey;
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `dev-${randomBytes(4).toString('hex')}`;
  const key: DevNhsLoginKey = {
    kid,
    privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS512' },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS512', use: 'sig' },
  };
  writeFileSync(file, JSON.stringify(key), { mode: 0o600 });
  return key;
}

export const nhsLoginIssuer = (settings: LocalSettings): string =>
  `http://${host}:${settings.oidcPort}/nhs-login`;
const redirectUri = (settings: LocalSettings): string =>
  `http://${host}:${settings.webPort}/api/nhs-login/callback`;

/** The local OIDC provider, with triage's public keys and redirect URIs in its clients file (written each start), for `/nhs-login` and `/cis2`. */
export function oidcProviderSpec(settings: LocalSettings): ServiceSpec {
  const key = devNhsLoginKey(settings.stateDir);
  const clientsFile = path.join(settings.stateDir, 'oidc-clients.json');
  writeFileSync(
    clientsFile,
    JSON.stringify({
      'nhs-login': [
        {
          clientId: devNhsLoginClientId,
          clientName: 'GP Consult (development)',
          redirectUris: [redirectUri(settings)],
          jwks: { keys: [key.publicJwk] },
        },
      ],
      cis2: [cis2ClientRegistration(settings)],
    }),
  );
  return {
    name: 'oidc',
    entry: 'local/oidc-provider/src/server.ts',
    env: { OIDC_HOST: host, OIDC_PORT: String(settings.oidcPort), OIDC_CLIENTS_FILE: clientsFile },
    readyUrl: `${nhsLoginIssuer(settings)}/.well-known/openid-configuration`,
  };
}

/** Triage signs in patients with the local provider's `/nhs-login`, with its development key. */
export function localNhsLoginEnv(settings: LocalSettings): Record<string, string> {
  const key = devNhsLoginKey(settings.stateDir);
  return {
    TRIAGE_NHS_LOGIN_ISSUER: nhsLoginIssuer(settings),
    TRIAGE_NHS_LOGIN_CLIENT_ID: devNhsLoginClientId,
    TRIAGE_NHS_LOGIN_PRIVATE_KEY: JSON.stringify(key.privateJwk),
    TRIAGE_NHS_LOGIN_KID: key.kid,
    TRIAGE_NHS_LOGIN_REDIRECT_URI: redirectUri(settings),
  };
}
