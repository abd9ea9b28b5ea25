// MESH API authentication: `Authorization: NHSMESH mailbox:nonce:nonce_count:timestamp:hmac`, where
// hmac is HMAC-SHA256, keyed with the environment's shared key, over
// `mailbox:nonce:nonce_count:password:timestamp`, in lower-case hex. The mailbox password is part of
// the signed string and never sent. As NHS England's own client builds it (NHSDigital/mesh-client,
// `mesh_client/__init__.py`, class AuthTokenGenerator): the timestamp is UTC `yyyyMMddHHmm`, and one
// client keeps its nonce and counts up (nonce_count 0, 1, 2...).
import { createHmac, randomUUID } from 'node:crypto';

export const MESH_AUTH_SCHEME = 'NHSMESH';

export interface MeshAuthInput {
  mailboxId: string;
  password: string;
  sharedKey: string;
  nonce: string;
  nonceCount: number;
  /** UTC `yyyyMMddHHmm`, as MESH's own clients send it (`meshTimestamp`). */
  timestamp: string;
}

/** The Authorization header value for one MESH request. */
export function meshAuthorizationHeader(input: MeshAuthInput): string {
  const { mailboxId, password, sharedKey, nonce, nonceCount, timestamp } = input;
  const hmac = createHmac('sha256', sharedKey)
    .update(`${mailboxId}:${nonce}:${nonceCount}:${password}:${timestamp}`, 'utf8')
    .digest('hex');
  return `${MESH_AUTH_SCHEME} ${mailboxId}:${nonce}:${nonceCount}:${timestamp}:${hmac}`;
}

/** `yyyyMMddHHmm` in UTC: the timestamp MESH's clients put in the header. */
export function meshTimestamp(at: Date = new Date()): string {
  return at.toISOString().replace(/[-T:]/g, '').slice(0, 12);
}

/** Signs each request of one client: one nonce, counted up, as NHS England's client does. */
export class MeshAuthenticator {
  private readonly nonce = randomUUID();
  private nonceCount = 0;

  constructor(
    private readonly credentials: { mailboxId: string; password: string; sharedKey: string },
    private readonly now: () => Date = () => new Date(),
  ) {}

  next(): string {
    return meshAuthorizationHeader({
      ...this.credentials,
      nonce: this.nonce,
      nonceCount: this.nonceCount++,
      timestamp: meshTimestamp(this.now()),
    });
  }
}
