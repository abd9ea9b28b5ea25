import { randomUUID } from 'node:crypto';
import {
  createRemoteJWKSet,
  importJWK,
  jwtVerify,
  SignJWT,
  type CryptoKey,
  type JWK,
  type JWTPayload,
  type KeyObject,
} from 'jose';
import type { NrbacRoleClaim } from './roles';

/**
 * The service as an NHS CIS2 Authentication relying party, for staff sign-in: authorization code
 * flow with PKCE (S256), `private_key_jwt` client authentication (RS512), `acr_values` for the
 * assurance level, the ID token verified against CIS2's published keys (RS256: signature, `iss`,
 * `aud`, `azp`, `exp`, `nonce`, and an `acr` that meets what was asked), then userinfo for the
 * user's name and national RBAC roles. The shape of NHS login's client (nhs-login/client.ts).
 * See: https://digital.nhs.uk/services/care-identity-service/applications-and-services/cis2-authentication/guidance-for-developers
 */

export interface Cis2Settings {
  /** CIS2's issuer identifier; its discovery document is under `/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** The private key client assertions are signed with (RSA, as a JWK), and its key id. */
  privateKey: JWK;
  kid: string;
  /** Registered with CIS2: where the browser comes back to (`…/auth/cis2/callback`). */
  redirectUri: string;
  /** `acr_values` asked for: `AAL3_ANY` or `AAL2_OR_AAL3_ANY`. */
  acrValues: string;
  /** How long a call to CIS2 may take. Default 10 s. */
  timeoutMs?: number;
}

/** The `acr_values` this service may ask for. */
export const cis2AcrValuesPattern = '^(AAL3_ANY|AAL2_OR_AAL3_ANY)$';

/** Why a sign-in could not be used; the reason reaches the staff page, the message only the log. */
export class Cis2Error extends Error {
  override name = 'Cis2Error';
  constructor(
    readonly reason: 'failed' | 'assurance' | 'unavailable',
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
}

/** The user's name and national RBAC roles, as CIS2 gives them for these scopes. */
export const cis2Scope = 'openid profile nationalrbacaccess';

/**
 * The authenticator assurance level an `acr` value stands for: `AAL3_ANY`, `AAL3_SMARTCARD`… → 3,
 * `AAL2_OR_AAL3_ANY` (either) → 2, `AAL2_…` → 2; anything else → 0 (never enough).
 */
export function assuranceOf(acr: unknown): number {
  if (typeof acr !== 'string') return 0;
  if (acr === 'AAL2_OR_AAL3_ANY') return 2;
  const level = /^AAL([23])_[A-Z0-9_]+$/.exec(acr)?.[1];
  return level ? Number(level) : 0;
}

/** Who CIS2 says the member of staff is. */
export interface Cis2Identity {
  /** CIS2's user id: the ID token's subject, and `nhsid_useruid`. */
  uid: string;
  name: string;
  /** `nhsid_nrbac_roles` from userinfo. */
  roles: NrbacRoleClaim[];
  /** The ID token's `acr`. */
  acr: string;
}

export class Cis2Client {
  private discovery: Promise<Discovery> | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private signingKey: Promise<CryptoKey | KeyObject | Uint8Array> | undefined;

  constructor(private readonly settings: Cis2Settings) {}

  get issuer(): string {
    return this.settings.issuer;
  }

  /** The `acr_values` a new sign-in asks for. */
  get acrValues(): string {
    return this.settings.acrValues;
  }

  private get timeoutMs(): number {
    return this.settings.timeoutMs ?? 10_000;
  }

  /** The issuer's endpoints, read once (again after a failure). */
  private metadata(): Promise<Discovery> {
    this.discovery ??= (async () => {
      const found = await this.fetchJson<Discovery>(
        `${this.settings.issuer}/.well-known/openid-configuration`,
        {},
      );
      if (found.issuer !== this.settings.issuer)
        throw new Cis2Error('unavailable', `the discovery document names another issuer: ${found.issuer}`);
      return found;
    })().catch((error: unknown) => {
      this.discovery = undefined;
      throw error;
    });
    return this.discovery;
  }

  /** Where to send the browser to sign in. */
  async authorizationUrl(request: {
    state: string;
    nonce: string;
    codeChallenge: string;
    acrValues: string;
  }): Promise<URL> {
    const url = new URL((await this.metadata()).authorization_endpoint);
    const params = {
      response_type: 'code',
      client_id: this.settings.clientId,
      redirect_uri: this.settings.redirectUri,
      scope: cis2Scope,
      state: request.state,
      nonce: request.nonce,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
      acr_values: request.acrValues,
      // a shared workstation's CIS2 session must not sign in the wrong member of staff
      prompt: 'login',
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url;
  }

  /**
   * Exchanges the code (with the PKCE verifier and a client assertion), checks the ID token
   * (including that its `acr` meets `acrValues`, what this sign-in asked for), reads userinfo, and
   * returns who the member of staff is. Throws `Cis2Error`.
   */
  async signIn(callback: {
    code: string;
    codeVerifier: string;
    nonce: string;
    acrValues: string;
  }): Promise<Cis2Identity> {
    const discovery = await this.metadata();
    const tokens = await this.fetchJson<{ id_token?: string; access_token?: string }>(
      discovery.token_endpoint,
      {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          code: callback.code,
          redirect_uri: this.settings.redirectUri,
          code_verifier: callback.codeVerifier,
          client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
          client_assertion: await this.clientAssertion(discovery.token_endpoint),
        }),
      },
    );
    if (!tokens.id_token || !tokens.access_token)
      throw new Cis2Error('failed', 'the token response has no ID token or access token');
    const idToken = await this.verifyIdToken(discovery, tokens.id_token, callback.nonce);
    const required = Math.min(...callback.acrValues.split(' ').map(assuranceOf));
    if (!(required > 0) || assuranceOf(idToken.acr) < required)
      throw new Cis2Error(
        'assurance',
        `the sign-in's acr (${String(idToken.acr)}) does not meet ${callback.acrValues}`,
      );
    const userinfo = await this.fetchJson<Record<string, unknown>>(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    return identityFrom(idToken, userinfo);
  }

  /** RFC 7523: iss = sub = our client id, aud = the token endpoint, short-lived, unique. */
  private async clientAssertion(tokenEndpoint: string): Promise<string> {
    this.signingKey ??= importJWK(this.settings.privateKey, 'RS512');
    return new SignJWT({ jti: randomUUID() })
      .setProtectedHeader({ alg: 'RS512', kid: this.settings.kid, typ: 'JWT' })
      .setIssuer(this.settings.clientId)
      .setSubject(this.settings.clientId)
      .setAudience(tokenEndpoint)
      .setIssuedAt()
      .setExpirationTime('60s')
      .sign(await this.signingKey);
  }

  /** Signature from the issuer's keys (RS256 only), issuer, audience, expiry, and our nonce. */
  private async verifyIdToken(discovery: Discovery, idToken: string, nonce: string): Promise<JWTPayload> {
    this.jwks ??= createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: this.timeoutMs });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks, {
        issuer: this.settings.issuer,
        audience: this.settings.clientId,
        algorithms: ['RS256'],
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce'],
      }));
    } catch (error) {
      throw new Cis2Error('failed', `the ID token is not valid: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (payload.nonce !== nonce) throw new Cis2Error('failed', 'the ID token is for another sign-in (nonce)');
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== this.settings.clientId)
      throw new Cis2Error('failed', 'the ID token was issued to another party (azp)');
    return payload;
  }

  private async fetchJson<T>(url: string, init: RequestInit): Promise<T> {
    let response: Response;
    try {
      response = await fetch(url, {
        ...init,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw new Cis2Error('unavailable', `CIS2 could not be reached (${new URL(url).pathname})`, {
        cause: error,
      });
    }
    if (!response.ok) {
      const code = ((await response.json().catch(() => ({}))) as { error?: unknown }).error;
      throw new Cis2Error(
        response.status >= 500 ? 'unavailable' : 'failed',
        `CIS2 answered ${response.status}${typeof code === 'string' ? ` (${code})` : ''} at ${new URL(url).pathname}`,
      );
    }
    return (await response.json()) as T;
  }
}

/** The member of staff from the ID token (signed) and userinfo: the same subject in both. */
export function identityFrom(idToken: JWTPayload, userinfo: Record<string, unknown>): Cis2Identity {
  const uid = String(idToken.sub);
  if (userinfo.sub !== uid) throw new Cis2Error('failed', 'userinfo is for another subject');
  if (userinfo.nhsid_useruid !== undefined && userinfo.nhsid_useruid !== uid)
    throw new Cis2Error('failed', 'nhsid_useruid disagrees with the subject');
  if (!/^[0-9A-Za-z-]{1,64}$/.test(uid)) throw new Cis2Error('failed', 'the subject is not a CIS2 user id');
  const given = typeof userinfo.given_name === 'string' ? userinfo.given_name : '';
  const family = typeof userinfo.family_name === 'string' ? userinfo.family_name : '';
  const name = (typeof userinfo.name === 'string' ? userinfo.name : `${given} ${family}`)
    .trim()
    .slice(0, 200);
  if (!name) throw new Cis2Error('failed', 'no name in the claims');
  const roles = userinfo.nhsid_nrbac_roles;
  if (roles !== undefined && !Array.isArray(roles))
    throw new Cis2Error('failed', 'nhsid_nrbac_roles is not a list');
  return {
    uid,
    name,
    roles: ((roles ?? []) as unknown[]).filter(
      (role): role is NrbacRoleClaim => typeof role === 'object' && role !== null,
    ),
    acr: String(idToken.acr),
  };
}
