import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/**
 * A member of staff's access was taken away or changed (stopped, demoted, password or MFA reset by
 * an admin, a refresh-token family revoked for reuse): every triage and call node closes that
 * member's live sockets (dashboards, calls) at once and refuses the tokens they held. Announced on
 * one Redis channel; while Redis is down the access token's short lifetime is the fallback, since
 * every staff socket is closed when its token expires.
 */
export const StaffRevocation = {
  /** The Redis pub/sub channel every triage and call node subscribes to. */
  channel: 'gpc-staff-revoked',
  /**
   * A Redis sorted set of the messages sent on the channel within `rememberMs` (scored by `at`),
   * written with each: a call node reads it whenever its connection to Redis comes back, so a
   * revocation sent while it was cut off (or sent again by triage once Redis was back) reaches it.
   */
  recentKey: 'gpc-staff-revoked-recent',
  /**
   * How long a node remembers a revocation, to refuse the tokens issued before it: longer than any
   * staff access token or host call token lives.
   */
  rememberMs: 60 * 60 * 1000,
} as const;

/** The message on the channel: whose access changed, and when (ms since the epoch). */
export const StaffRevoked = Type.Object(
  { staffId: Type.String({ minLength: 1, maxLength: 64 }), at: Type.Integer({ minimum: 0 }) },
  { additionalProperties: false },
);
export type StaffRevoked = Static<typeof StaffRevoked>;

const checkRevoked = TypeCompiler.Compile(StaffRevoked);

/** The message read off the channel, or undefined when it is not one (never throws). */
export function parseStaffRevoked(text: string): StaffRevoked | undefined {
  try {
    const message: unknown = JSON.parse(text);
    return checkRevoked.Check(message) ? message : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The revocations a node has heard of, each kept for `StaffRevocation.rememberMs`: a token issued
 * before its member's revocation is refused at the handshake, so a client cannot simply reconnect
 * with it. Triage's tokens carry their issue time in milliseconds (`iat_ms`), so one issued just
 * after the revocation (the new session a password change gives) is not mistaken for one issued
 * before it; a token with whole-second `iat` only is refused for the whole second (it may predate it).
 */
export class RevokedStaff {
  private readonly revokedAt = new Map<string, number>();

  constructor(
    private readonly now: () => number = Date.now,
    private readonly rememberMs: number = StaffRevocation.rememberMs,
  ) {}

  add({ staffId, at }: StaffRevoked): void {
    this.forgetOld();
    this.revokedAt.set(staffId, Math.max(at, this.revokedAt.get(staffId) ?? 0));
  }

  /** True when a token of this member, issued when `times` says (see `tokenTimes`), predates their revocation. */
  refuses(staffId: string, times: { issuedAt?: number; issuedAtMs?: number }): boolean {
    this.forgetOld();
    const at = this.revokedAt.get(staffId);
    if (at === undefined) return false;
    // the same millisecond: the new session a password change opens right after its revocation
    if (times.issuedAtMs !== undefined) return times.issuedAtMs < at;
    return times.issuedAt === undefined || times.issuedAt <= Math.floor(at / 1000);
  }

  private forgetOld(): void {
    const oldest = this.now() - this.rememberMs;
    for (const [staffId, at] of this.revokedAt) if (at < oldest) this.revokedAt.delete(staffId);
  }
}

/**
 * The `iat` and `exp` (seconds) of a JWT already verified, and its `iat_ms` (milliseconds) when it
 * has one, read from its payload; absent ones undefined.
 */
export function tokenTimes(token: string): { issuedAt?: number; issuedAtMs?: number; expiresAt?: number } {
  try {
    const payload = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString('utf8')) as {
      iat?: unknown;
      iat_ms?: unknown;
      exp?: unknown;
    };
    return {
      ...(typeof payload.iat === 'number' ? { issuedAt: payload.iat } : {}),
      ...(typeof payload.iat_ms === 'number' ? { issuedAtMs: payload.iat_ms } : {}),
      ...(typeof payload.exp === 'number' ? { expiresAt: payload.exp } : {}),
    };
  } catch {
    return {};
  }
}

/**
 * Milliseconds until a token expiring at `expiresAt` (seconds) runs out, for the timer that closes
 * its socket then (at least 0; setTimeout's limit beyond about 24 days).
 */
export const msUntilExpiry = (expiresAt: number, now = Date.now()): number =>
  Math.min(Math.max(0, expiresAt * 1000 - now), 2 ** 31 - 1);
