// Checks `Authorization: NHSMESH mailbox:nonce:nonce_count:timestamp:hmac` exactly, computing the
// HMAC itself (it does not borrow the client's code): HMAC-SHA256 keyed with the shared key over
// `mailbox:nonce:nonce_count:password:timestamp`, hex. Refused (403): a header that does not parse,
// a mailbox other than the path's, an unknown mailbox, a wrong HMAC, a timestamp further than the
// allowed skew from now, and a nonce and nonce_count pair used before.
import { createHmac, timingSafeEqual } from 'node:crypto';
import type { MeshMailbox } from './config';

export type AuthRefusal =
  | 'Error reading from Authorization header'
  | 'Mailbox id does not match token'
  | 'No mailbox matched'
  | 'Invalid Authentication Token'
  | 'Error Duplicated Authentication Token';

const HEADER = /^NHSMESH ([^:\s]+):([^:\s]+):(\d{1,10}):(\d{12}):([0-9a-f]{64})$/;

/** `yyyyMMddHHmm` (UTC) as milliseconds since the epoch. */
function timestampMs(text: string): number {
  const part = (at: number, length: number) => Number(text.slice(at, at + length));
  return Date.UTC(part(0, 4), part(4, 2) - 1, part(6, 2), part(8, 2), part(10, 2));
}

export class MeshAuthChecker {
  /** `mailbox:nonce:count` → when it was seen; forgotten once its timestamp is out of the window anyway. */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly options: {
      sharedKey: string;
      mailboxes: Map<string, MeshMailbox>;
      maxClockSkewMs: number;
      now?: () => number;
    },
  ) {}

  /** The mailbox the request may act for, or why not. */
  check(header: string | undefined, pathMailbox: string): MeshMailbox | AuthRefusal {
    const match = HEADER.exec((header ?? '').trim());
    if (!match) return 'Error reading from Authorization header';
    const [, mailboxId, nonce, count, timestamp, hmac] = match as unknown as string[];
    if (mailboxId!.toUpperCase() !== pathMailbox.toUpperCase()) return 'Mailbox id does not match token';
    const mailbox = this.options.mailboxes.get(mailboxId!.toUpperCase());
    if (!mailbox) return 'No mailbox matched';
    const expected = createHmac('sha256', this.options.sharedKey)
      .update(`${mailboxId}:${nonce}:${count}:${mailbox.password}:${timestamp}`, 'utf8')
      .digest();
    if (!timingSafeEqual(expected, Buffer.from(hmac!, 'hex'))) return 'Invalid Authentication Token';
    const now = (this.options.now ?? Date.now)();
    // minute resolution: a header made at 10:38:59 says 1038
    const at = timestampMs(timestamp!);
    if (
      Number.isNaN(at) ||
      now - (at + 60_000) > this.options.maxClockSkewMs ||
      at - now > this.options.maxClockSkewMs
    )
      return 'Invalid Authentication Token';
    this.forgetOld(now);
    const key = `${mailbox.mailboxId}:${nonce}:${count}`;
    if (this.seen.has(key)) return 'Error Duplicated Authentication Token';
    this.seen.set(key, at);
    return mailbox;
  }

  private forgetOld(now: number): void {
    if (this.seen.size < 10_000) return;
    for (const [key, at] of this.seen) {
      if (now - at > this.options.maxClockSkewMs + 120_000) this.seen.delete(key);
    }
  }
}
