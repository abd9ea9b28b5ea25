import { createSigner, createVerifier, TOKEN_ERROR_CODES, TokenError } from 'fast-jwt';
import { TypeCompiler } from '@sinclair/typebox/compiler';
import { AppError, CallTokenClaims, StaffTokenClaims, type StaffRole } from '@gpc/contracts';

const checkStaff = TypeCompiler.Compile(StaffTokenClaims);
const checkCall = TypeCompiler.Compile(CallTokenClaims);

/** Staff who may start a video call and run it (admit, remove); reception staff may not. */
export function mayHostCalls(role: StaffRole): boolean {
  return role === 'clinician' || role === 'admin';
}

export type VerifiedToken =
  { kind: 'staff'; claims: StaffTokenClaims } | { kind: 'call'; claims: CallTokenClaims };

/**
 * HS256 tokens, the same as @fastify/jwt's defaults, so triage's staff tokens verify here. Claims
 * beyond the schema's are ignored; missing or wrong ones make the token invalid.
 */
export class TokenService {
  private readonly verifier: (token: string) => Record<string, unknown>;
  private readonly secret: string;

  constructor(secret: string) {
    this.secret = secret;
    this.verifier = createVerifier({ key: secret, algorithms: ['HS256'], cache: false }) as (
      token: string,
    ) => Record<string, unknown>;
  }

  sign(claims: StaffTokenClaims | CallTokenClaims, ttlSeconds: number): string {
    const signer = createSigner({ key: this.secret, algorithm: 'HS256', expiresIn: ttlSeconds * 1000 });
    return signer({ ...claims });
  }

  /** Throws AppError `unauthorized` with a message saying whether the token expired or is not valid. */
  verify(token: string): VerifiedToken {
    let payload: Record<string, unknown>;
    try {
      payload = this.verifier(token);
    } catch (error) {
      const expired = error instanceof TokenError && error.code === TOKEN_ERROR_CODES.expired;
      throw new AppError('unauthorized', expired ? 'token expired' : 'token not valid');
    }
    const claims = Object.fromEntries(
      Object.entries(payload).filter(([key]) => !['iat', 'exp', 'nbf', 'jti', 'iss', 'aud'].includes(key)),
    );
    if (claims.typ === 'staff' && checkStaff.Check(claims)) return { kind: 'staff', claims };
    if (claims.typ === 'call' && checkCall.Check(claims)) return { kind: 'call', claims };
    throw new AppError('unauthorized', 'token not valid');
  }
}
