import { TypeCompiler } from '@sinclair/typebox/compiler';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTVerifyGetKey,
} from 'jose';
import { AppError, CallTokenClaims, TokenAudience, type StaffRole } from '@gpc/contracts';

const checkCall = TypeCompiler.Compile(CallTokenClaims);

/** Staff who may start a video call and run it (admit, remove); reception staff may not. */
export function mayHostCalls(role: StaffRole): boolean {
  return role === 'clinician' || role === 'admin';
}

/** Where the call node finds triage's public keys: its JWKS URL, or (no network between them) the set itself. */
export type TokenKeySource = { jwksUrl: string; cacheSeconds: number } | { jwks: JSONWebKeySet };

/** Private key members of a JWK: a public key set has none of them. */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/** The public JWK set given as configuration, refused when it is not one or holds any private key. */
export function parsePublicJwks(json: string): JSONWebKeySet {
  const parsed = JSON.parse(json) as { keys?: unknown };
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0)
    throw new Error('a JWK set with at least one key is expected');
  for (const key of parsed.keys as Record<string, unknown>[])
    if (privateMembers.some((member) => member in key))
      throw new Error('a private key has no place here: give the public keys only');
  return parsed as JSONWebKeySet;
}

/**
 * Verifies the call tokens triage signs (EdDSA, `aud` signalling, triage as `iss`) with triage's
 * public keys: fetched from its JWKS (kept for `cacheSeconds`, fetched again at once for a `kid` not
 * yet seen, so a new key works as soon as triage publishes it), or given whole. The call node holds
 * no key that can sign: it can neither mint a call token nor any other of triage's tokens.
 */
export class TokenService {
  private readonly keys: JWTVerifyGetKey;

  constructor(
    source: TokenKeySource,
    private readonly issuer: string,
  ) {
    this.keys =
      'jwksUrl' in source
        ? createRemoteJWKSet(new URL(source.jwksUrl), {
            cacheMaxAge: source.cacheSeconds * 1000,
            // an unknown kid fetches again at most this often (a flood of forged kids cannot hammer triage)
            cooldownDuration: Math.min(30_000, source.cacheSeconds * 1000),
            timeoutDuration: 5000,
          })
        : createLocalJWKSet(source.jwks);
  }

  /** The claims of a valid call token; throws AppError `unauthorized` saying whether it expired or is not valid. */
  async verify(token: string): Promise<CallTokenClaims> {
    let payload: Record<string, unknown>;
    try {
      ({ payload } = await jwtVerify(token, this.keys, {
        algorithms: ['EdDSA'],
        issuer: this.issuer,
        audience: TokenAudience.call,
        requiredClaims: ['exp', 'iat'],
      }));
    } catch (error) {
      const expired = error instanceof errors.JWTExpired;
      throw new AppError('unauthorized', expired ? 'token expired' : 'token not valid');
    }
    const claims = Object.fromEntries(
      Object.entries(payload).filter(
        ([key]) => !['iat', 'iat_ms', 'exp', 'nbf', 'jti', 'iss', 'aud'].includes(key),
      ),
    );
    if (!checkCall.Check(claims)) throw new AppError('unauthorized', 'token not valid');
    return claims;
  }
}
