import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomUUID,
  type JsonWebKey,
} from 'node:crypto';
import { createDecoder, createSigner, createVerifier, TOKEN_ERROR_CODES, TokenError } from 'fast-jwt';
import { TokenAudience, type TokenKind } from '@gpc/contracts';

/**
 * Triage's token keys: an EdDSA (Ed25519) JWK set with private keys, from the deployment's
 * configuration. The first key is the current one and signs; every key in the set verifies and is
 * published (public halves only) as the JWKS other services verify with. Rotating: put a new key
 * first, wait for the old one's tokens to expire, then remove it. Signing and verifying are
 * synchronous (fast-jwt), so a token can be made anywhere a link is.
 */

/** A public key as the JWKS publishes it. */
export interface PublicJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  kid: string;
  alg: 'EdDSA';
  use: 'sig';
}

export interface Jwks<Key = PublicJwk> {
  keys: Key[];
}

/** Why a token was refused: it ran out, or it is not a valid token of the kind expected. */
export class TokenRefused extends Error {
  override name = 'TokenRefused';
  constructor(readonly expired: boolean) {
    super(expired ? 'token expired' : 'token not valid');
  }
}

interface Key {
  kid: string;
  privatePem: string;
  verifiers: Map<TokenKind, (token: string) => Record<string, unknown>>;
  publicJwk: PublicJwk;
}

const registeredClaims = ['iss', 'aud', 'iat', 'iat_ms', 'exp', 'nbf', 'jti'];
const decodeHeader = createDecoder({ complete: true }) as (token: string) => { header: { kid?: unknown } };

/** A new Ed25519 key with a fresh `kid`, private half included: for npm start and tests. */
export function generateSigningKey(kid: string = randomUUID()): JsonWebKey {
  const { privateKey } = generateKeyPairSync('ed25519');
  return { ...privateKey.export({ format: 'jwk' }), kid, alg: 'EdDSA', use: 'sig' };
}

/** Parses and checks a signing key set (JSON, `{"keys": [...]}`): Ed25519 private keys with distinct `kid`s. */
export function parseSigningKeys(json: string): JsonWebKey[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(json);
  } catch {
    throw new Error('not JSON: a JWK set, {"keys": [...]}, is expected');
  }
  const keys = (parsed as { keys?: unknown } | null)?.keys;
  if (!Array.isArray(keys) || keys.length === 0)
    throw new Error('a JWK set with at least one key is expected');
  const kids = new Set<string>();
  for (const key of keys as JsonWebKey[]) {
    if (key.kty !== 'OKP' || key.crv !== 'Ed25519' || typeof key.d !== 'string' || typeof key.x !== 'string')
      throw new Error('every key must be an Ed25519 private key (kty OKP, crv Ed25519, with d and x)');
    if (typeof key.kid !== 'string' || key.kid === '') throw new Error('every key needs a kid');
    if (kids.has(key.kid)) throw new Error(`the kid ${key.kid} is used twice`);
    kids.add(key.kid);
  }
  return keys as JsonWebKey[];
}

export class TokenKeys {
  private readonly keys: Key[];
  private readonly signers = new Map<TokenKind, (claims: Record<string, unknown>) => string>();

  constructor(
    jwks: JsonWebKey[],
    readonly issuer: string,
  ) {
    this.keys = jwks.map((jwk) => {
      const privateKey = createPrivateKey({ key: jwk, format: 'jwk' });
      const publicKey = createPublicKey(privateKey);
      const kid = String(jwk.kid);
      const publicPem = publicKey.export({ format: 'pem', type: 'spki' }) as string;
      const verifiers = new Map(
        (Object.keys(TokenAudience) as TokenKind[]).map((kind) => [
          kind,
          createVerifier({
            key: publicPem,
            algorithms: ['EdDSA'],
            allowedIss: issuer,
            allowedAud: TokenAudience[kind],
            requiredClaims: ['iss', 'aud', 'exp'],
            cache: false,
          }) as (token: string) => Record<string, unknown>,
        ]),
      );
      const { x } = publicKey.export({ format: 'jwk' });
      return {
        kid,
        privatePem: privateKey.export({ format: 'pem', type: 'pkcs8' }) as string,
        verifiers,
        publicJwk: { kty: 'OKP', crv: 'Ed25519', x: String(x), kid, alg: 'EdDSA', use: 'sig' },
      };
    });
    if (this.keys.length === 0) throw new Error('no signing key');
  }

  /** The public keys, for `/.well-known/jwks.json`: the current one first, then those still verifying. */
  publicJwks(): Jwks {
    return { keys: this.keys.map((key) => key.publicJwk) };
  }

  /** A token of this kind (its audience), signed with the current key, valid for `ttlSeconds`. */
  sign(kind: TokenKind, claims: object, ttlSeconds: number): string {
    const current = this.keys[0]!;
    let signer = this.signers.get(kind);
    if (!signer) {
      signer = createSigner<Record<string, unknown>>({
        key: current.privatePem,
        algorithm: 'EdDSA',
        kid: current.kid,
        iss: this.issuer,
        aud: TokenAudience[kind],
      });
      this.signers.set(kind, signer);
    }
    const now = Date.now();
    // iat_ms: a revocation is told from a token issued in the same second after it (RevokedStaff)
    return signer({ ...claims, iat_ms: now, exp: Math.floor(now / 1000) + ttlSeconds });
  }

  /**
   * The claims (registered ones left out) of a token of this kind, signed by one of our keys for
   * this issuer and audience and not expired; throws `TokenRefused` otherwise.
   */
  verify(kind: TokenKind, token: string): Record<string, unknown> {
    let payload: Record<string, unknown>;
    try {
      const kid = decodeHeader(token).header.kid;
      const key = this.keys.find((candidate) => candidate.kid === kid);
      if (!key) throw new TokenRefused(false);
      payload = key.verifiers.get(kind)!(token);
    } catch (error) {
      if (error instanceof TokenRefused) throw error;
      throw new TokenRefused(error instanceof TokenError && error.code === TOKEN_ERROR_CODES.expired);
    }
    return Object.fromEntries(Object.entries(payload).filter(([name]) => !registeredClaims.includes(name)));
  }
}
