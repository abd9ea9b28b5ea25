import { createHash, randomBytes } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import QRCode from 'qrcode';
import type { MfaEnrolment } from '@gpc/contracts';
import type { SecretKeyring } from '@gpc/contracts/secrets';

/**
 * Staff TOTP (RFC 6238: SHA-1, 6 digits, 30-second steps, as every authenticator app reads them)
 * and recovery codes. A code is accepted one step either side of now (clocks drift), and each step
 * once only (the caller records the step: see `acceptTotpStep`).
 * See: https://datatracker.ietf.org/doc/html/rfc6238
 */

const issuer = 'GP Consult';
const period = 30;

/** A new secret: 160 random bits (RFC 4226's recommended length), base32 as apps take it. */
export const newTotpSecret = (): string => new Secret({ size: 20 }).base32;

const totpFor = (secret: string, label: string) =>
  new TOTP({ issuer, label, algorithm: 'SHA1', digits: 6, period, secret: Secret.fromBase32(secret) });

/** What enrolment shows, once: the secret as text, its `otpauth://` URL, and that URL as a QR code. */
export async function enrolmentFor(secret: string, label: string): Promise<MfaEnrolment> {
  const otpauthUrl = totpFor(secret, label).toString();
  const svg = await QRCode.toString(otpauthUrl, { type: 'svg', errorCorrectionLevel: 'M', margin: 2 });
  return {
    secret,
    otpauthUrl,
    qrCode: `data:image/svg+xml;base64,${Buffer.from(svg).toString('base64')}`,
  };
}

/** The 30-second step a six-digit code belongs to (now, or one either side), or undefined when it is wrong. */
export function totpStepOf(secret: string, code: string, now = Date.now()): number | undefined {
  if (!/^[0-9]{6}$/.test(code)) return undefined;
  const delta = totpFor(secret, 'check').validate({ token: code, timestamp: now, window: 1 });
  return delta === null ? undefined : Math.floor(now / 1000 / period) + delta;
}

// Crockford's base32 without the letters read as others (I, L, O, U): easy to read out and type
const recoveryAlphabet = '0123456789ABCDEFGHJKMNPQRSTVWXYZ';

/** Ten recovery codes like `7K2QD-M9XPA` (50 random bits each), and their hashes to store. */
export function newRecoveryCodes(count = 10): { codes: string[]; hashes: string[] } {
  const codes = Array.from({ length: count }, () => {
    const chars = [...randomBytes(10)].map((byte) => recoveryAlphabet[byte % 32]).join('');
    return `${chars.slice(0, 5)}-${chars.slice(5)}`;
  });
  return { codes, hashes: codes.map(hashRecoveryCode) };
}

/** Codes are random, so a plain SHA-256 suffices; case, spaces and hyphens do not matter. */
export const hashRecoveryCode = (code: string): string =>
  createHash('sha256').update(code.toUpperCase().replace(/[\s-]/g, '')).digest('base64url');

/**
 * The TOTP secret as stored: encrypted (AES-256-GCM, bound to this member of staff) when the
 * service has a secrets key (TRIAGE_SECRETS_*), plain base32 otherwise. Never sent back out after
 * enrolment either way.
 */
export const sealTotpSecret = (
  keyring: SecretKeyring | undefined,
  practiceId: string,
  staffId: string,
  secret: string,
): string => (keyring ? keyring.seal(secret, totpContext(practiceId, staffId)) : secret);

export const openTotpSecret = (
  keyring: SecretKeyring | undefined,
  practiceId: string,
  staffId: string,
  stored: string,
): string => (keyring ? keyring.open(stored, totpContext(practiceId, staffId)) : stored);

const totpContext = (practiceId: string, staffId: string) => ({
  practiceId,
  field: `staff.totp_secret.${staffId}`,
});
