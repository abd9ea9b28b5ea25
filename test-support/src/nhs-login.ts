import { generateKeyPairSync, randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { pino } from 'pino';
import type { ClientRegistration, RunningOidcProvider, SigningKey } from '@gpc/local-oidc-provider';
import type { NhsLoginSettings } from '@gpc/triage';
import type { TestLifetime } from './lifetime';

/** The local NHS login stand-in, on a free port, with triage registered as its client. */
export interface TestNhsLogin {
  provider: RunningOidcProvider;
  /** Where browsers and triage reach it: the provider's own address, or the `publicUrl` given. */
  url: string;
  /** What triage is configured with. */
  settings: NhsLoginSettings;
  /** The provider's private signing keys: a test may sign what only NHS login should (a forgery). */
  signingKeys: SigningKey[];
}

export interface NhsLoginOption {
  /** Registered with the provider and used by triage; by default one under 127.0.0.1 that nothing answers. */
  redirectUri?: string;
  /** Where triage reaches the provider, when not directly (e.g. through a proxy a test put in between). */
  publicUrl?: string;
}

/** An RSA key pair for RS512, the private half as a JWK (what TRIAGE_NHS_LOGIN_PRIVATE_KEY holds). */
export function nhsLoginClientKey(): {
  privateJwk: NhsLoginSettings['privateKey'];
  publicJwk: ClientRegistration['jwks']['keys'][number];
  kid: string;
} {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = randomUUID();
  return {
    kid,
    privateJwk: { ...privateKey.export({ format: 'jwk' }), kid, alg: 'RS512' },
    publicJwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS512', use: 'sig' },
  };
}

/** Starts the provider with triage's client registered (its public key, its redirect URI). */
export async function startNhsLogin(t: TestLifetime, option: NhsLoginOption = {}): Promise<TestNhsLogin> {
  // loaded here: most test files never need it
  const { generateSigningKey, startLocalOidcProvider } = await import('@gpc/local-oidc-provider');
  const client = nhsLoginClientKey();
  const clientId = 'gp-consult-test';
  const redirectUri = option.redirectUri ?? 'http://127.0.0.1:9/nhs-login/callback';
  const signingKeys = [await generateSigningKey()];
  const provider = await startLocalOidcProvider({
    ...(option.publicUrl ? { publicUrl: option.publicUrl } : {}),
    nhsLogin: { clients: [{ clientId, redirectUris: [redirectUri], jwks: { keys: [client.publicJwk] } }] },
    signingKeys,
    logger: pino({ level: 'silent' }),
  });
  t.after(() => provider.close());
  return {
    provider,
    url: option.publicUrl ?? provider.url,
    signingKeys,
    settings: {
      issuer: provider.issuers.nhsLogin,
      clientId,
      privateKey: client.privateJwk,
      kid: client.kid,
      redirectUri,
    },
  };
}

/**
 * A patient signing in with NHS login at a practice's form, over HTTP: triage's start redirects to
 * the stand-in, its sign-in form is filled in, and triage's callback gives back the session token
 * (`undefined`, and why, when it gave none).
 */
export async function signInWithNhsLogin(
  triage: { app: FastifyInstance; nhsLogin: TestNhsLogin | undefined },
  user: { email: string; password: string },
  odsCode = 'A81001',
): Promise<{ token: string | undefined; failure: string | undefined }> {
  if (!triage.nhsLogin) throw new Error('start triage with the nhsLogin option');
  const { signInByHttp } = await import('@gpc/local-oidc-provider/testing');
  const start = await triage.app.inject({ method: 'GET', url: `/practices/${odsCode}/nhs-login` });
  const { returnedTo } = await signInByHttp(String(start.headers.location), triage.nhsLogin.url, user);
  const callback = await triage.app.inject({ method: 'GET', url: `/nhs-login/callback${returnedTo.search}` });
  const fragment = new URLSearchParams(new URL(String(callback.headers.location)).hash.slice(1));
  return {
    token: fragment.get('nhs-login') ?? undefined,
    failure: fragment.get('nhs-login-error') ?? undefined,
  };
}
