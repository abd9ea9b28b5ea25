import { pino } from 'pino';
import type { RunningOidcProvider, SigningKey } from '@gpc/local-oidc-provider';
import type { Cis2Settings } from '@gpc/triage';
import type { TestLifetime } from './lifetime';
import { nhsLoginClientKey } from './nhs-login';

/** The local CIS2 stand-in (the OIDC provider's `/cis2`), on a free port, with triage registered as its client. */
export interface TestCis2 {
  provider: RunningOidcProvider;
  /** Where browsers and triage reach it: the provider's own address, or the `publicUrl` given. */
  url: string;
  /** What triage is configured with. */
  settings: Cis2Settings;
  /** The issuer's private signing keys (RS256): a test may sign what only CIS2 should (a forgery). */
  signingKeys: SigningKey[];
}

export interface Cis2Option {
  /** Registered with the provider and used by triage; by default one under 127.0.0.1 that nothing answers. */
  redirectUri?: string;
  /** Where triage reaches the provider, when not directly (e.g. through a proxy a test put in between). */
  publicUrl?: string;
  /** `acr_values` triage asks for; AAL3_ANY unless given. */
  acrValues?: string;
}

/** Starts the provider with triage's client registered for `/cis2` (its public key, its redirect URI). */
export async function startCis2(t: TestLifetime, option: Cis2Option = {}): Promise<TestCis2> {
  // loaded here: most test files never need it
  const { generateSigningKey, startLocalOidcProvider } = await import('@gpc/local-oidc-provider');
  const client = nhsLoginClientKey();
  const clientId = 'gp-consult-cis2-test';
  const redirectUri = option.redirectUri ?? 'http://127.0.0.1:9/api/auth/cis2/callback';
  const signingKeys = [await generateSigningKey('RS256')];
  const provider = await startLocalOidcProvider({
    ...(option.publicUrl ? { publicUrl: option.publicUrl } : {}),
    nhsLogin: { clients: [] },
    cis2: {
      clients: [{ clientId, redirectUris: [redirectUri], jwks: { keys: [client.publicJwk] } }],
      signingKeys,
    },
    logger: pino({ level: 'silent' }),
  });
  t.after(() => provider.close());
  return {
    provider,
    url: option.publicUrl ?? provider.url,
    signingKeys,
    settings: {
      issuer: provider.issuers.cis2,
      clientId,
      privateKey: client.privateJwk,
      kid: client.kid,
      redirectUri,
      acrValues: option.acrValues ?? 'AAL3_ANY',
    },
  };
}
