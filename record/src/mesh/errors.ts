/** Why a MESH request failed, as code. Messages never carry message content or patient data. */
export type MeshErrorCode =
  /** 401/403: the mailbox, password, shared key or clock is wrong (MESH says no more). */
  | 'mesh-unauthorised'
  /** No answer: connection refused or reset, DNS, TLS, timeout; or 5xx/429 (MESH busy or down). */
  | 'mesh-unreachable'
  /** MESH refused what was sent (4xx such as 417 "Unregistered to address"); a retry will not help. */
  | 'mesh-refused'
  /** 404/410: no such message in this mailbox, or it is gone (already acknowledged). */
  | 'mesh-not-found'
  /** The outbound guard refused the MESH address (not https, private address...): nothing was sent. */
  | 'mesh-address-refused'
  /** MESH answered something this client cannot read. */
  | 'mesh-bad-response';

export class MeshError extends Error {
  override name = 'MeshError';
  constructor(
    readonly code: MeshErrorCode,
    message: string,
    readonly details: {
      /** The HTTP status, when MESH answered. */
      status?: number;
      /** MESH's own error code (e.g. "12" unregistered recipient), when it gave one. */
      meshCode?: string;
      /** Whether trying again later can help. */
      retryable?: boolean;
    } = {},
  ) {
    super(message);
  }

  get status(): number | undefined {
    return this.details.status;
  }

  get meshCode(): string | undefined {
    return this.details.meshCode;
  }

  get retryable(): boolean {
    return this.details.retryable ?? this.code === 'mesh-unreachable';
  }
}
