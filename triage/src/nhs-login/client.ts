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
import { isValidNhsNumber } from '@gpc/contracts';
import type { NhsLoginIdentity } from '../db/nhs-login';

/**
 * The service as an NHS login partner (relying party): authorization code flow with PKCE (S256),
 * `private_key_jwt` client authentication (RS512, as NHS login asks), the ID token verified against
 * the issuer's published keys (signature, `iss`, `aud`, `exp`, `nonce`), then userinfo.
 */

export interface NhsLoginSettings {
  /** NHS login's issuer identifier; its discovery document is under `/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** The private key the client assertions are signed with (RSA, as a JWK), and its key id. */
  privateKey: JWK;
  kid: string;
  /** Registered with NHS login: where the browser comes back to (`…/nhs-login/callback`). */
  redirectUri: string;
  /** How long a call to NHS login may take. Default 10 s. */
  timeoutMs?: number;
}

/** Why a sign-in could not be used; `failed` and `unavailable` are logged (without patient details). */
export class NhsLoginError extends Error {
  override name = 'NhsLoginError';
  constructor(
    readonly reason: 'failed' | 'not-verified' | 'unavailable',
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

/** The scopes asked for: `profile` for the NHS number, surname, date of birth and proofing level,
 * `profile_extended` for the first name (staff greet and check patients by it). */
export const nhsLoginScope = 'openid profile profile_extended';
/** P9 or P5, whatever the way of signing in (NHS login's vectors of trust). */
export const nhsLoginVtr = JSON.stringify(['P9.Cp.Cd', 'P9.Cp.Ck', 'P9.Cm', 'P5.Cp.Cd', 'P5.Cp.Ck', 'P5.Cm']);

export class NhsLoginClient {
  private discovery: Promise<Discovery> | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private signingKey: Promise<CryptoKey | KeyObject | Uint8Array> | undefined;

  constructor(private readonly settings: NhsLoginSettings) {}

  /** NHS login's issuer identifier. */
  get issuer(): string {
    return this.settings.issuer;
  }

  private get timeoutMs(): number {
    return this.settings.timeoutMs ?? 10_000;
  }

  /** The issuer's endpoints, read once (again after a failure). */
  private metadata(): Promise<Discovery> {
    this.discovery ??= (async () => {
      const url = `${this.settings.issuer}/.well-known/openid-configuration`;
      const found = await this.fetchJson<Discovery>(url, {});
      if (found.issuer !== this.settings.issuer)
        throw new NhsLoginError(
          'unavailable',
          `the discovery document names another issuer: ${found.issuer}`,
        );
      return found;
    })().catch((error: unknown) => {
      this.discovery = undefined;
      throw error;
    });
    return this.discovery;
  }

  /** Where to send the browser to sign in. */
  async authorizationUrl(request: { state: string; nonce: string; codeChallenge: string }): Promise<URL> {
    const url = new URL((await this.metadata()).authorization_endpoint);
    const params = {
      response_type: 'code',
      client_id: this.settings.clientId,
      redirect_uri: this.settings.redirectUri,
      scope: nhsLoginScope,
      state: request.state,
      nonce: request.nonce,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
      vtr: nhsLoginVtr,
      // a shared computer's NHS login session must not send someone else's identity
      prompt: 'login',
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url;
  }

  /**
   * Exchanges the code (with the PKCE verifier and a client assertion), checks the ID token, reads
   * userinfo, and returns who the patient is. Throws `NhsLoginError`.
   */
  async signIn(callback: { code: string; codeVerifier: string; nonce: string }): Promise<NhsLoginIdentity> {
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
      throw new NhsLoginError('failed', 'the token response has no ID token or access token');
    const idToken = await this.verifyIdToken(discovery, tokens.id_token, callback.nonce);
    const userinfo = await this.fetchJson<Record<string, unknown>>(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    if (userinfo.sub !== idToken.sub) throw new NhsLoginError('failed', 'userinfo is for another subject');
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

  /** Signature from the issuer's keys (RS512 only), issuer, audience, expiry, and our nonce. */
  private async verifyIdToken(discovery: Discovery, idToken: string, nonce: string): Promise<JWTPayload> {
    this.jwks ??= createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: this.timeoutMs });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks, {
        issuer: this.settings.issuer,
        audience: this.settings.clientId,
        algorithms: ['RS512'],
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce'],
      }));
    } catch (error) {
      throw new NhsLoginError('failed', `the ID token is not valid: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (payload.nonce !== nonce)
      throw new NhsLoginError('failed', 'the ID token is for another sign-in (nonce)');
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== this.settings.clientId)
      throw new NhsLoginError('failed', 'the ID token was issued to another party (azp)');
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
      throw new NhsLoginError('unavailable', `NHS login could not be reached (${new URL(url).pathname})`, {
        cause: error,
      });
    }
    if (!response.ok) {
      // the token endpoint's OAuth error code says what it refused; its body is never shown further
      const code = ((await response.json().catch(() => ({}))) as { error?: unknown }).error;
      throw new NhsLoginError(
        response.status >= 500 ? 'unavailable' : 'failed',
        `NHS login answered ${response.status}${typeof code === 'string' ? ` (${code})` : ''} at ${new URL(url).pathname}`,
      );
    }
    return (await response.json()) as T;
  }
}

/**
 * The patient's identity from the ID token (signed) and userinfo: a claim in both must agree. The
 * proofing level is the signed `vot`'s (P9.Cp.Cd → P9); `identity_proofing_level`, when given, must
 * say the same. P0 (no NHS number, no check against PDS) is not enough for this service.
 */
export function identityFrom(idToken: JWTPayload, userinfo: Record<string, unknown>): NhsLoginIdentity {
  const claim = (name: string): string | undefined => {
    const signed = idToken[name];
    const read = userinfo[name];
    if (signed !== undefined && read !== undefined && signed !== read)
      throw new NhsLoginError('failed', `the ID token and userinfo disagree on ${name}`);
    const value = signed ?? read;
    return typeof value === 'string' ? value.trim() : undefined;
  };
  const vot = typeof idToken.vot === 'string' ? idToken.vot : '';
  const level = /^(P0|P5|P9)(\.|$)/.exec(vot)?.[1];
  if (!level) throw new NhsLoginError('failed', 'the ID token has no vector of trust (vot)');
  const stated = claim('identity_proofing_level');
  if (stated !== undefined && stated !== level)
    throw new NhsLoginError('failed', 'identity_proofing_level disagrees with the vector of trust');
  if (level === 'P0') throw new NhsLoginError('not-verified', 'identity not verified (P0)');
  const nhsNumber = claim('nhs_number');
  const birthDate = claim('birthdate');
  const familyName = claim('family_name');
  const givenName = claim('given_name');
  if (!nhsNumber || !isValidNhsNumber(nhsNumber))
    throw new NhsLoginError('not-verified', 'no valid NHS number in the claims');
  if (!birthDate || !/^\d{4}-\d{2}-\d{2}$/.test(birthDate))
    throw new NhsLoginError('not-verified', 'no date of birth in the claims');
  if (!familyName || !givenName || familyName.length > 100 || givenName.length > 100)
    throw new NhsLoginError('not-verified', 'no usable name in the claims');
  return {
    subject: String(idToken.sub),
    nhsNumber,
    givenName,
    familyName,
    birthDate,
    proofingLevel: level as 'P5' | 'P9',
    vot,
  };
}
