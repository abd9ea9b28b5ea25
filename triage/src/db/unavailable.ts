/**
 * pg errors that mean the database could not be reached or went away mid-request (refused, reset,
 * timed out, shut down, crashed, still starting, connection lost): the caller should try again.
 * Anything else (a constraint, a bad statement) is a real failure, not an outage.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const code = (error as { code?: unknown }).code;
  if (typeof code === 'string' && unavailableCodes.has(code)) return true;
  const message = (error as { message?: unknown }).message;
  return typeof message === 'string' && unavailableMessages.test(message);
}

const unavailableCodes = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  // admin_shutdown, crash_shutdown, cannot_connect_now (starting up or in recovery)
  '57P01',
  '57P02',
  '57P03',
  // connection_exception and its kinds
  '08000',
  '08001',
  '08003',
  '08004',
  '08006',
]);

const unavailableMessages =
  /Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Connection is not open|the database system is (starting up|shutting down|in recovery mode)/i;
