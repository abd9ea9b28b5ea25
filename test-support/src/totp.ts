import { Secret, TOTP } from 'otpauth';

/**
 * The six-digit code an authenticator app shows for a base32 TOTP secret (SHA-1, 30 s), at `at`
 * (now unless given): what a member of staff types in. Computed here, not by the app under test.
 */
export function totpCode(secret: string, at = Date.now()): string {
  return new TOTP({ algorithm: 'SHA1', digits: 6, period: 30, secret: Secret.fromBase32(secret) }).generate({
    timestamp: at,
  });
}
