import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { errors, type ClientMetadata, type Configuration, type JWK } from 'oidc-provider';
import { interactionPath, mountProvider, type MountedIssuer } from './mount';
import { findTestUser, findTestUserBySignIn, type NhsLoginTestUser } from './test-users';
import { problemPage, signInPage } from './views';

/**
 * The `/nhs-login` issuer: NHS login as its interface specification describes it to a partner
 * service. Authorization code flow only, PKCE with S256 required, client authentication by
 * `private_key_jwt` only (RS512, as NHS login signs), tokens signed RS512; scopes `openid`,
 * `profile` (`nhs_number`, `birthdate`, `family_name`, `identity_proofing_level`) and
 * `profile_extended` (`given_name`); `vot`/`vtm` in the ID token, and `vtr` asked for in the
 * authorization request (default `["P9.Cp.Cd","P9.Cp.Ck","P9.Cm"]`, as NHS login assumes). The
 * profile claims are in the ID token as well as from userinfo, as NHS login puts them.
 */

/** A partner service registered with the stand-in: its redirect URIs and the public keys it signs with. */
export interface ClientRegistration {
  clientId: string;
  clientName?: string;
  redirectUris: string[];
  /** Public keys only: the client signs its assertions with the private halves. */
  jwks: { keys: JWK[] };
}

export const NHS_LOGIN_PATH = '/nhs-login';

/** NHS login's default when a partner service sends no `vtr`. */
const defaultVtr = ['P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm'];
const trustmark = 'https://auth.login.nhs.uk/trustmark/auth.login.nhs.uk';

const levelRank = { P0: 0, P5: 5, P9: 9 } as const;

/** The vectors asked for (`vtr`, a JSON array of strings), or undefined when malformed. */
function requestedVectors(vtr: unknown): string[] | undefined {
  if (vtr === undefined) return defaultVtr;
  if (typeof vtr !== 'string') return undefined;
  try {
    const parsed: unknown = JSON.parse(vtr);
    if (Array.isArray(parsed) && parsed.every((vector) => typeof vector === 'string')) return parsed;
  } catch {
    // not JSON: refused below
  }
  return undefined;
}

/** Whether the user's identity is verified to a level one of the requested vectors accepts. */
function meetsVectors(user: NhsLoginTestUser, vectors: string[]): boolean {
  return vectors.some((vector) => {
    const level = /^(P0|P5|P9)\./.exec(vector)?.[1] as keyof typeof levelRank | undefined;
    return level !== undefined && levelRank[user.proofingLevel] >= levelRank[level];
  });
}

export interface NhsLoginIssuerOptions {
  /** The server's public base URL, e.g. `http://127.0.0.1:8105`; the issuer is this and `/nhs-login`. */
  publicUrl: string;
  clients: readonly ClientRegistration[];
  /** The issuer's private signing keys (RSA, RS512). */
  signingKeys: JWK[];
  /** Keys the provider's cookies are signed with. */
  cookieKeys: string[];
}

function clientMetadata(client: ClientRegistration): ClientMetadata {
  return {
    client_id: client.clientId,
    client_name: client.clientName ?? client.clientId,
    redirect_uris: client.redirectUris,
    jwks: client.jwks,
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'private_key_jwt',
    token_endpoint_auth_signing_alg: 'RS512',
    id_token_signed_response_alg: 'RS512',
  };
}

function configuration(options: NhsLoginIssuerOptions): Configuration {
  return {
    clients: options.clients.map(clientMetadata),
    jwks: { keys: options.signingKeys },
    cookies: { keys: options.cookieKeys },
    // only the partner services registered above; nothing registers itself
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
    clientAuthMethods: ['private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS512'],
      idTokenSigningAlgValues: ['RS512'],
    },
    pkce: { required: () => true },
    responseTypes: ['code'],
    extraParams: ['vtr'],
    scopes: ['openid', 'profile', 'profile_extended'],
    claims: {
      openid: ['sub', 'vot', 'vtm'],
      profile: ['nhs_number', 'birthdate', 'family_name', 'identity_proofing_level'],
      profile_extended: ['given_name'],
    },
    // NHS login puts the profile claims in the ID token too
    conformIdTokenClaims: false,
    routes: {
      authorization: '/authorize',
      token: '/token',
      userinfo: '/userinfo',
      jwks: '/.well-known/jwks.json',
    },
    ttl: {
      AuthorizationCode: 600,
      AccessToken: 3600,
      IdToken: 3600,
      Interaction: 1800,
      Session: 3600,
      Grant: 3600,
    },
    interactions: { url: (_ctx, interaction) => interactionPath(NHS_LOGIN_PATH, interaction.uid) },
    // consent is implied: a grant of what was asked for is made at sign-in
    findAccount: (_ctx, sub) => {
      const user = findTestUser(sub);
      if (!user) return undefined;
      return {
        accountId: user.sub,
        claims: () => ({
          sub: user.sub,
          vot: user.vot,
          vtm: trustmark,
          nhs_number: user.nhsNumber,
          birthdate: user.birthDate,
          family_name: user.familyName,
          given_name: user.givenName,
          identity_proofing_level: user.proofingLevel,
        }),
      };
    },
  };
}

/** The `/nhs-login` issuer, ready to mount on the stand-in's HTTP server. */
export function nhsLoginIssuer(options: NhsLoginIssuerOptions): MountedIssuer {
  const provider = new Provider(`${options.publicUrl}${NHS_LOGIN_PATH}`, configuration(options));
  const clientNames = new Map(options.clients.map((client) => [client.clientId, client.clientName]));
  return mountProvider(provider, NHS_LOGIN_PATH, async (request, response, route) => {
    try {
      await signIn(provider, clientNames, request, response, route);
    } catch (error) {
      if (!(error instanceof errors.SessionNotFound)) throw error;
      sendHtml(response, 400, problemPage('This sign-in has expired or was already finished.'));
    }
  });
}

/** The sign-in page (GET), a sign-in (POST `login`) or going back without one (POST `cancel`). */
async function signIn(
  provider: Provider,
  clientNames: Map<string, string | undefined>,
  request: IncomingMessage,
  response: ServerResponse,
  route: { uid: string; action: string | undefined },
): Promise<void> {
  const details = await provider.interactionDetails(request, response);
  const base = interactionPath(NHS_LOGIN_PATH, route.uid);
  const page = (error?: string, email?: string) =>
    signInPage({
      action: `${base}/login`,
      cancelAction: `${base}/cancel`,
      clientName: clientNames.get(String(details.params.client_id)) ?? 'the service',
      ...(error ? { error } : {}),
      ...(email ? { email } : {}),
    });
  if (request.method === 'GET' && route.action === undefined) return sendHtml(response, 200, page());
  if (request.method !== 'POST') return sendHtml(response, 405, problemPage('Not allowed.'));
  if (route.action === 'cancel') {
    return provider.interactionFinished(
      request,
      response,
      { error: 'access_denied', error_description: 'The user cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  }
  if (route.action !== 'login') return sendHtml(response, 404, problemPage('Not found.'));
  const form = new URLSearchParams(await readBody(request));
  const email = form.get('email') ?? '';
  const user = findTestUserBySignIn(email, form.get('password') ?? '');
  if (!user)
    return sendHtml(response, 400, page('Enter the email address and password of a test user', email));
  const vectors = requestedVectors(details.params.vtr);
  if (!vectors) return sendHtml(response, 400, problemPage('The service asked for a malformed vtr.'));
  if (!meetsVectors(user, vectors)) {
    return sendHtml(
      response,
      400,
      page(
        `This service needs identity verified to ${vectors.join(' or ')}; ${user.email} is ${user.proofingLevel}`,
      ),
    );
  }
  const grant = new provider.Grant({ accountId: user.sub, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(
    request,
    response,
    { login: { accountId: user.sub }, consent: { grantId } },
    { mergeWithLastSubmission: false },
  );
}

export async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size > 10_000) throw new Error('sign-in form too large');
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

export function sendHtml(response: ServerResponse, status: number, html: string): void {
  response.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  response.end(html);
}
