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

/**
 * The service as an OpenID Connect relying party of an NHS identity service (NHS login for
 * patients, CIS2 for staff): authorization code flow with PKCE (S256), `private_key_jwt` client
 * authentication (RS512), the ID token verified against the issuer's published keys (signature,
 * `iss`, `aud`, `azp`, `exp`, `nonce`), then userinfo. What each service's claims mean is its
 * client's (nhs-login/client.ts, cis2/client.ts).
 */

export interface RelyingPartySettings {
  /** The issuer identifier; its discovery document is under `/.well-known/openid-configuration`. */
  issuer: string;
  clientId: string;
  /** The private key the client assertions are signed with (RSA, as a JWK), and its key id. */
  privateKey: JWK;
  kid: string;
  /** Registered with the service: where the browser comes back to. */
  redirectUri: string;
  /** How long a call to the service may take. Default 10 s. */
  timeoutMs?: number;
}

/** What differs between the services this party signs in with. */
export interface RelyingPartyOptions {
  /** The service's name in messages ("NHS login", "CIS2"). */
  service: string;
  scope: string;
  /** The one algorithm the service signs ID tokens with. */
  idTokenAlgorithm: 'RS256' | 'RS512';
  /** The service's own error for a sign-in that failed or a service that did not answer. */
  error(reason: 'failed' | 'unavailable', message: string, options?: { cause?: unknown }): Error;
}

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  userinfo_endpoint: string;
  jwks_uri: string;
}

/** A sign-in's verified ID token and the userinfo its access token read. */
export interface SignedIn {
  idToken: JWTPayload;
  userinfo: Record<string, unknown>;
}

export class OidcRelyingParty {
  private discovery: Promise<Discovery> | undefined;
  private jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
  private signingKey: Promise<CryptoKey | KeyObject | Uint8Array> | undefined;

  constructor(
    private readonly settings: RelyingPartySettings,
    private readonly options: RelyingPartyOptions,
  ) {}

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
        throw this.options.error(
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

  /**
   * Where to send the browser to sign in; `extra` are the service's own parameters (NHS login's
   * `vtr`, CIS2's `acr_values`).
   */
  async authorizationUrl(
    request: { state: string; nonce: string; codeChallenge: string },
    extra: Record<string, string>,
  ): Promise<URL> {
    const url = new URL((await this.metadata()).authorization_endpoint);
    const params = {
      response_type: 'code',
      client_id: this.settings.clientId,
      redirect_uri: this.settings.redirectUri,
      scope: this.options.scope,
      state: request.state,
      nonce: request.nonce,
      code_challenge: request.codeChallenge,
      code_challenge_method: 'S256',
      ...extra,
      // a shared computer's session at the service must not sign in the wrong person
      prompt: 'login',
    };
    for (const [name, value] of Object.entries(params)) url.searchParams.set(name, value);
    return url;
  }

  /**
   * Exchanges the code (with the PKCE verifier and a client assertion), verifies the ID token, lets
   * `checkIdToken` refuse it before anything more is asked of the service, and reads userinfo.
   */
  async signIn(
    callback: { code: string; codeVerifier: string; nonce: string },
    checkIdToken: (idToken: JWTPayload) => void = () => undefined,
  ): Promise<SignedIn> {
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
      throw this.options.error('failed', 'the token response has no ID token or access token');
    const idToken = await this.verifyIdToken(discovery, tokens.id_token, callback.nonce);
    checkIdToken(idToken);
    const userinfo = await this.fetchJson<Record<string, unknown>>(discovery.userinfo_endpoint, {
      headers: { authorization: `Bearer ${tokens.access_token}` },
    });
    return { idToken, userinfo };
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

  /** Signature from the issuer's keys (its one algorithm only), issuer, audience, expiry, and our nonce. */
  private async verifyIdToken(discovery: Discovery, idToken: string, nonce: string): Promise<JWTPayload> {
    this.jwks ??= createRemoteJWKSet(new URL(discovery.jwks_uri), { timeoutDuration: this.timeoutMs });
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(idToken, this.jwks, {
        issuer: this.settings.issuer,
        audience: this.settings.clientId,
        algorithms: [this.options.idTokenAlgorithm],
        requiredClaims: ['iss', 'sub', 'aud', 'exp', 'iat', 'nonce'],
      }));
    } catch (error) {
      throw this.options.error('failed', `the ID token is not valid: ${(error as Error).message}`, {
        cause: error,
      });
    }
    if (payload.nonce !== nonce)
      throw this.options.error('failed', 'the ID token is for another sign-in (nonce)');
    if (Array.isArray(payload.aud) && payload.aud.length > 1 && payload.azp !== this.settings.clientId)
      throw this.options.error('failed', 'the ID token was issued to another party (azp)');
    return payload;
  }

  private async fetchJson<T>(url: string, init: RequestInit): Promise<T> {
    const { service } = this.options;
    let response: Response;
    try {
      response = await fetch(url, {
        ...init,
        redirect: 'error',
        signal: AbortSignal.timeout(this.timeoutMs),
      });
    } catch (error) {
      throw this.options.error('unavailable', `${service} could not be reached (${new URL(url).pathname})`, {
        cause: error,
      });
    }
    if (!response.ok) {
      // the token endpoint's OAuth error code says what it refused; its body is never shown further
      const code = ((await response.json().catch(() => ({}))) as { error?: unknown }).error;
      throw this.options.error(
        response.status >= 500 ? 'unavailable' : 'failed',
        `${service} answered ${response.status}${typeof code === 'string' ? ` (${code})` : ''} at ${new URL(url).pathname}`,
      );
    }
    return (await response.json()) as T;
  }
}
