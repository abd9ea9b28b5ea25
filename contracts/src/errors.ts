/**
 * Stable error codes used inside every service. Each edge translates them: HTTP `{code, message}`,
 * socket acks `{ok: false, error: {code, message}}`, and `OperationOutcome` at the FHIR boundary.
 */
export const ErrorCodes = {
  badRequest: 400,
  unauthorized: 401,
  forbidden: 403,
  notFound: 404,
  conflict: 409,
  /** The practice is not taking online requests at this time (outside its hours). */
  practiceClosed: 409,
  /** The practice has taken as many online requests today as it can handle. */
  capacityReached: 409,
  /** The practice has paused online requests (an exceptional, audited pause); the message gives 111 advice. */
  practicePaused: 409,
  /** An answer means the patient needs urgent help now, not a form: the message says where to get it. */
  redFlag: 422,
  /**
   * An answer means the patient should call 111 or the practice now; they may still send the request
   * (marked urgent) by confirming `urgentSendAnyway`. The message gives the advice.
   */
  urgentRedFlag: 422,
  tooManyRequests: 429,
  unavailable: 503,
  internal: 500,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class AppError extends Error {
  override name = 'AppError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }

  get httpStatus(): number {
    return ErrorCodes[this.code];
  }
}
