import { refusalText, type AddressRefusal } from './address';

/** Why a connection to a practice-configured place was refused before anything was sent. */
export type OutboundRefusalReason = AddressRefusal | 'plain-http' | 'not-a-url' | 'credentials-in-url';

const reasonText: Record<OutboundRefusalReason, string> = {
  ...refusalText,
  'plain-http': 'it is not encrypted (plain http, or SMTP without TLS)',
  'not-a-url': 'it is not a valid https address',
  'credentials-in-url': 'it has a user name or password in it',
};

/**
 * The outbound guard refused a connection: nothing was sent. Its message is the reason as staff
 * read it ("it is a private network address"); the client that hit it names the place:
 * `describeRefusal("the GP system's address", error)`.
 */
export class OutboundRefused extends Error {
  override name = 'OutboundRefused';
  /** Node-style, so clients that keep only an error's `code` (axios, undici) still tell it apart. */
  readonly code = 'EOUTBOUNDREFUSED';
  constructor(readonly reason: OutboundRefusalReason) {
    super(reasonText[reason]);
  }
}

/** The guard's refusal behind `error` (fetch, axios and nodemailer wrap it in their own errors). */
export function findRefusal(error: unknown): OutboundRefused | undefined {
  for (let at = error, depth = 0; at && depth < 5; depth++) {
    if (at instanceof OutboundRefused) return at;
    at = (at as { cause?: unknown }).cause;
  }
  return undefined;
}

/** "the GP system's address is not allowed: it is a private network address". */
export const describeRefusal = (place: string, refusal: OutboundRefused): string =>
  `${place} is not allowed: ${refusal.message}`;

/** A network error as staff may read it: its code (ECONNREFUSED, ETIMEDOUT…), never a far side's words. */
export function networkErrorCode(error: unknown): string | undefined {
  for (let at = error, depth = 0; at && depth < 5; depth++) {
    const code = (at as { code?: unknown }).code;
    if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,40}$/.test(code)) return code;
    at = (at as { cause?: unknown }).cause;
  }
  return undefined;
}
