import { createLocalJWKSet, errors, jwtVerify, type JSONWebKeySet, type JWTVerifyGetKey } from 'jose';
import { AppError, callEventsAudience, callEventsTokenMaxSeconds, callNodeIssuer } from '@gpc/contracts';

/** Private key members of a JWK: a public key set has none of them. */
const privateMembers = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'oth'];

/**
 * Parses the call nodes' public keys (TRIAGE_CALL_NODE_KEYS, a JWK set as JSON): Ed25519 public
 * keys with distinct `kid`s. A private key is refused: triage must not be able to sign as a call node.
 */
export function parseCallNodeKeys(json: string): JSONWebKeySet {
  let parsed: { keys?: unknown };
  try {
    parsed = JSON.parse(json) as { keys?: unknown };
  } catch {
    throw new Error('not JSON: a JWK set, {"keys": [...]}, is expected');
  }
  if (!Array.isArray(parsed.keys) || parsed.keys.length === 0)
    throw new Error('a JWK set with at least one key is expected');
  const kids = new Set<unknown>();
  for (const key of parsed.keys as Record<string, unknown>[]) {
    if (privateMembers.some((member) => member in key))
      throw new Error('a private key has no place here: give the call nodes’ public keys only');
    if (key.kty !== 'OKP' || key.crv !== 'Ed25519' || typeof key.x !== 'string')
      throw new Error('every key must be an Ed25519 public key (kty OKP, crv Ed25519, with x)');
    if (typeof key.kid !== 'string' || key.kid === '' || kids.has(key.kid))
      throw new Error('every key needs a kid of its own');
    kids.add(key.kid);
  }
  return parsed as JSONWebKeySet;
}

/**
 * Verifies the short tokens call nodes post call events with (see contracts' `callEventsAudience`):
 * EdDSA by one of the call nodes' keys, their issuer and audience, issued within the last
 * `callEventsTokenMaxSeconds` and not expired. Least privilege both ways: these keys verify nothing
 * else, and triage's own keys (staff, call links) never verify one of these.
 */
export class CallNodeKeys {
  private readonly keys: JWTVerifyGetKey;

  constructor(jwks: JSONWebKeySet) {
    this.keys = createLocalJWKSet(jwks);
  }

  /** The call node the token names (`sub`); AppError `unauthorized` otherwise. */
  async verify(token: string): Promise<string> {
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        algorithms: ['EdDSA'],
        issuer: callNodeIssuer,
        audience: callEventsAudience,
        requiredClaims: ['exp', 'iat', 'sub'],
        maxTokenAge: callEventsTokenMaxSeconds,
        clockTolerance: 5,
      });
      if (payload.exp! - payload.iat! > callEventsTokenMaxSeconds) throw new Error('lives too long');
      return payload.sub!;
    } catch (error) {
      const expired = error instanceof errors.JWTExpired;
      throw new AppError('unauthorized', expired ? 'call node token expired' : 'not a call node token');
    }
  }
}
