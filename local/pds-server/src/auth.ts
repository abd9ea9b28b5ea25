// Application-restricted access as the NHS API platform does it: the application signs a JWT
// (RS512, `kid` naming its registered key, `iss` = `sub` = its API key, `aud` = the token URL, a
// unique `jti`, `exp` at most five minutes ahead) and exchanges it for a bearer token.
import { randomBytes } from 'node:crypto';
import {
  createLocalJWKSet,
  decodeProtectedHeader,
  errors as joseErrors,
  jwtVerify,
  type JSONWebKeySet,
} from 'jose';

export const CLIENT_ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
const MAX_ASSERTION_LIFETIME_S = 300;

export interface TokenIssuerOptions {
  apiKey: string;
  /** The public keys registered for the application. */
  jwks: JSONWebKeySet;
  /** How long an access token lasts; PDS's is 599 seconds. */
  tokenLifetimeSeconds?: number;
  now?: () => number;
}

/** An OAuth error as the token endpoint answers it. */
export class TokenRefused extends Error {
  constructor(
    readonly status: 400 | 401,
    readonly error: 'invalid_request' | 'invalid_client' | 'unsupported_grant_type',
    description: string,
  ) {
    super(description);
  }
}

export interface IssuedToken {
  access_token: string;
  expires_in: string;
  token_type: 'Bearer';
  issued_at: string;
}

export class TokenIssuer {
  private readonly keys: ReturnType<typeof createLocalJWKSet>;
  private readonly usedJtis = new Map<string, number>();
  private readonly tokens = new Map<string, number>();
  private readonly lifetimeS: number;
  private readonly now: () => number;

  constructor(private readonly options: TokenIssuerOptions) {
    this.keys = createLocalJWKSet(options.jwks);
    this.lifetimeS = options.tokenLifetimeSeconds ?? 599;
    this.now = options.now ?? Date.now;
  }

  /** Checks a token request's form and its client assertion; a fresh bearer token, or `TokenRefused`. */
  async issue(form: URLSearchParams, tokenUrl: string): Promise<IssuedToken> {
    if (form.get('grant_type') !== 'client_credentials')
      throw new TokenRefused(400, 'unsupported_grant_type', 'grant_type must be client_credentials');
    if (form.get('client_assertion_type') !== CLIENT_ASSERTION_TYPE)
      throw new TokenRefused(
        400,
        'invalid_request',
        `client_assertion_type must be ${CLIENT_ASSERTION_TYPE}`,
      );
    const assertion = form.get('client_assertion');
    if (!assertion) throw new TokenRefused(400, 'invalid_request', 'Missing client_assertion');
    const jti = await this.verifyAssertion(assertion, tokenUrl);
    this.useJti(jti.value, jti.exp);
    const issuedAt = this.now();
    const token = randomBytes(24).toString('base64url');
    this.tokens.set(token, issuedAt + this.lifetimeS * 1000);
    return {
      access_token: token,
      expires_in: String(this.lifetimeS),
      token_type: 'Bearer',
      issued_at: String(issuedAt),
    };
  }

  /** Whether an `Authorization` header carries a token this issuer gave and that has not expired. */
  isAuthorised(authorization: string | undefined): boolean {
    const token = /^Bearer (\S+)$/.exec(authorization ?? '')?.[1];
    if (!token) return false;
    const expiresAt = this.tokens.get(token);
    if (expiresAt === undefined) return false;
    if (expiresAt <= this.now()) {
      this.tokens.delete(token);
      return false;
    }
    return true;
  }

  private async verifyAssertion(
    assertion: string,
    tokenUrl: string,
  ): Promise<{ value: string; exp: number }> {
    let header;
    try {
      header = decodeProtectedHeader(assertion);
    } catch {
      throw new TokenRefused(400, 'invalid_request', 'Malformed JWT in client_assertion');
    }
    if (header.alg !== 'RS512')
      throw new TokenRefused(
        400,
        'invalid_request',
        "Invalid 'alg' header in client_assertion JWT - must be RS512",
      );
    if (!header.kid)
      throw new TokenRefused(400, 'invalid_request', "Missing 'kid' header in client_assertion JWT");
    const { apiKey } = this.options;
    try {
      const { payload } = await jwtVerify(assertion, this.keys, {
        algorithms: ['RS512'],
        issuer: apiKey,
        subject: apiKey,
        audience: tokenUrl,
        requiredClaims: ['exp', 'jti'],
        currentDate: new Date(this.now()),
      });
      const exp = payload.exp!;
      if (exp * 1000 > this.now() + MAX_ASSERTION_LIFETIME_S * 1000)
        throw new TokenRefused(
          400,
          'invalid_request',
          "Invalid 'exp' claim in client_assertion JWT - must be less than 5 minutes in the future",
        );
      if (typeof payload.jti !== 'string' || payload.jti === '')
        throw new TokenRefused(400, 'invalid_request', "Missing 'jti' claim in client_assertion JWT");
      return { value: payload.jti, exp };
    } catch (error) {
      if (error instanceof TokenRefused) throw error;
      if (error instanceof joseErrors.JWTExpired)
        throw new TokenRefused(
          400,
          'invalid_request',
          "Invalid 'exp' claim in client_assertion JWT - expired",
        );
      if (error instanceof joseErrors.JWTClaimValidationFailed)
        throw new TokenRefused(
          401,
          'invalid_client',
          `Invalid '${error.claim}' claim in client_assertion JWT`,
        );
      if (error instanceof joseErrors.JWKSNoMatchingKey)
        throw new TokenRefused(
          401,
          'invalid_client',
          "Invalid 'kid' header in client_assertion JWT - no matching public key",
        );
      throw new TokenRefused(401, 'invalid_client', 'Unable to verify client_assertion JWT signature');
    }
  }

  /** A jti may be used once while its assertion could still be valid. */
  private useJti(jti: string, exp: number): void {
    const now = this.now();
    for (const [used, until] of this.usedJtis) if (until < now) this.usedJtis.delete(used);
    if (this.usedJtis.has(jti))
      throw new TokenRefused(
        400,
        'invalid_request',
        "Invalid 'jti' claim in client_assertion JWT - jti must be unique",
      );
    this.usedJtis.set(jti, exp * 1000);
  }
}
