import type { IncomingMessage, ServerResponse } from 'node:http';
import Provider, { errors, type ClientMetadata, type Configuration, type JWK } from 'oidc-provider';
import { findCis2User, findCis2UserBySignIn, type AssuranceLevel, type Cis2TestUser } from './cis2-users';
import { interactionPath, mountProvider, type MountedIssuer } from './mount';
import { readBody, sendHtml, type ClientRegistration } from './nhs-login';
import { cis2SignInPage, problemPage } from './views';

/**
 * The `/cis2` issuer: NHS Care Identity Service 2 (CIS2) Authentication as it shows itself to a
 * relying party, for signing in health and care staff. Authorization code flow only, PKCE with
 * S256 required, client authentication by `private_key_jwt` (RS512), ID tokens signed RS256;
 * scopes `openid`, `profile` (`name`, `given_name`, `family_name`, `uid`) and `nationalrbacaccess`
 * (`nhsid_useruid`, `nhsid_nrbac_roles`), those claims from userinfo (the ID token carries `acr`,
 * `amr` and `auth_time`). `acr_values` asks for an assurance level: `AAL3_ANY` (smartcard and other
 * AAL3 authenticators only), `AAL2_OR_AAL3_ANY` or `AAL2_ANY`; the ID token's `acr` is the value
 * the sign-in met, and a user whose authenticator meets none of those asked is refused here.
 * See: https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers
 */

export const CIS2_PATH = '/cis2';

/** The `acr` values the stand-in knows, and the authenticator levels each accepts. */
export const cis2AcrValues: Record<string, readonly AssuranceLevel[]> = {
  AAL3_ANY: ['AAL3'],
  AAL2_OR_AAL3_ANY: ['AAL2', 'AAL3'],
  AAL2_ANY: ['AAL2'],
};
/** Asked for when a service sends no `acr_values`: CIS2 authenticates most users to AAL3. */
const defaultAcr = 'AAL3_ANY';

/** The first of the `acr` values asked for (in order of preference) that the user's authenticator meets. */
export function acrMet(user: Cis2TestUser, asked: string): string | undefined {
  return asked.split(' ').find((value) => cis2AcrValues[value]?.includes(user.assurance));
}

export interface Cis2IssuerOptions {
  /** The server's public base URL; the issuer is this and `/cis2`. */
  publicUrl: string;
  clients: readonly ClientRegistration[];
  /** The issuer's private signing keys (RSA, RS256). */
  signingKeys: JWK[];
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
    id_token_signed_response_alg: 'RS256',
  };
}

function configuration(options: Cis2IssuerOptions): Configuration {
  return {
    clients: options.clients.map(clientMetadata),
    jwks: { keys: options.signingKeys },
    cookies: { keys: options.cookieKeys },
    features: { devInteractions: { enabled: false }, userinfo: { enabled: true } },
    clientAuthMethods: ['private_key_jwt'],
    enabledJWA: {
      clientAuthSigningAlgValues: ['RS512'],
      idTokenSigningAlgValues: ['RS256'],
    },
    pkce: { required: () => true },
    responseTypes: ['code'],
    acrValues: Object.keys(cis2AcrValues),
    scopes: ['openid', 'profile', 'nationalrbacaccess'],
    claims: {
      openid: ['sub', 'amr'],
      profile: ['name', 'given_name', 'family_name', 'uid'],
      nationalrbacaccess: ['nhsid_useruid', 'nhsid_nrbac_roles'],
    },
    routes: {
      authorization: '/authorize',
      token: '/access_token',
      userinfo: '/userinfo',
      jwks: '/connect/jwk_uri',
    },
    ttl: {
      AuthorizationCode: 300,
      AccessToken: 3600,
      IdToken: 3600,
      Interaction: 1800,
      Session: 3600,
      Grant: 3600,
    },
    interactions: { url: (_ctx, interaction) => interactionPath(CIS2_PATH, interaction.uid) },
    findAccount: (_ctx, sub) => {
      const user = findCis2User(sub);
      if (!user) return undefined;
      return {
        accountId: user.uid,
        claims: () => ({
          sub: user.uid,
          uid: user.uid,
          nhsid_useruid: user.uid,
          name: `${user.givenName} ${user.familyName}`,
          given_name: user.givenName,
          family_name: user.familyName,
          nhsid_nrbac_roles: user.roles,
        }),
      };
    },
  };
}

/** The `/cis2` issuer, ready to mount on the stand-in's HTTP server. */
export function cis2Issuer(options: Cis2IssuerOptions): MountedIssuer {
  const provider = new Provider(`${options.publicUrl}${CIS2_PATH}`, configuration(options));
  const clientNames = new Map(options.clients.map((client) => [client.clientId, client.clientName]));
  return mountProvider(provider, CIS2_PATH, async (request, response, route) => {
    try {
      await signIn(provider, clientNames, request, response, route);
    } catch (error) {
      if (!(error instanceof errors.SessionNotFound)) throw error;
      sendHtml(response, 400, problemPage('This sign-in has expired or was already finished.', 'NHS CIS2'));
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
  const base = interactionPath(CIS2_PATH, route.uid);
  const asked = typeof details.params.acr_values === 'string' ? details.params.acr_values : defaultAcr;
  const page = (error?: string, email?: string) =>
    cis2SignInPage({
      action: `${base}/login`,
      cancelAction: `${base}/cancel`,
      clientName: clientNames.get(String(details.params.client_id)) ?? 'the service',
      asked,
      ...(error ? { error } : {}),
      ...(email ? { email } : {}),
    });
  const problem = (status: number, message: string) =>
    sendHtml(response, status, problemPage(message, 'NHS CIS2'));
  if (request.method === 'GET' && route.action === undefined) return sendHtml(response, 200, page());
  if (request.method !== 'POST') return problem(405, 'Not allowed.');
  if (route.action === 'cancel') {
    return provider.interactionFinished(
      request,
      response,
      { error: 'access_denied', error_description: 'The user cancelled the sign-in' },
      { mergeWithLastSubmission: false },
    );
  }
  if (route.action !== 'login') return problem(404, 'Not found.');
  const form = new URLSearchParams(await readBody(request));
  const email = form.get('email') ?? '';
  const user = findCis2UserBySignIn(email, form.get('password') ?? '');
  if (!user)
    return sendHtml(response, 400, page('Enter the email address and passcode of a test user', email));
  const acr = acrMet(user, asked);
  if (!acr) {
    return sendHtml(
      response,
      400,
      page(`This service needs ${asked}; ${user.email} signs in with an ${user.assurance} authenticator`),
    );
  }
  const grant = new provider.Grant({ accountId: user.uid, clientId: String(details.params.client_id) });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  await provider.interactionFinished(
    request,
    response,
    {
      login: { accountId: user.uid, acr, amr: user.amr, remember: false },
      consent: { grantId },
    },
    { mergeWithLastSubmission: false },
  );
}
