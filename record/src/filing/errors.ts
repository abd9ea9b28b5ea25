// The record worker's errors, told apart with `instanceof`: whether a write-back is retried, handed
// back or failed for good depends on which one it is, never on a message's text.

/**
 * Why a send to the GP system failed, and whether trying again can help. `retryable` covers what
 * passes (network errors, timeouts, 5xx, 408, 429); anything else is the GP system refusing the
 * bundle, which a retry would only repeat.
 */
export class FhirSendError extends Error {
  override name = 'FhirSendError';
  constructor(
    message: string,
    readonly retryable: boolean,
    readonly status?: number,
    /** From `Retry-After`, when the server said when to come back. */
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/** A failure no retry can mend (no endpoint, invalid settings or bundle): the write-back is failed at once. */
export class PermanentFailure extends Error {
  override name = 'PermanentFailure';
}

/**
 * A retry after a real attempt at the GP system. Carries the attempt number from the `write_back`
 * row (bull's own count also counts hand-backs, and restarts when a lost job is queued again).
 */
export class WriteBackRetry extends Error {
  override name = 'WriteBackRetry';
  constructor(
    message: string,
    readonly attempt: number,
    readonly retryAfterMs?: number,
  ) {
    super(message);
  }
}

/**
 * Hands a job back untried: its practice already has as many write-backs in flight in this worker
 * as it may, so a slow GP system waits its turn instead of holding every slot.
 */
export class PracticeBusy extends Error {
  override name = 'PracticeBusy';
  constructor() {
    super('the practice already has its share of write-backs in flight');
  }
}
