import { pino, type DestinationStream, type Logger } from 'pino';
import { secretLogRedactPaths } from '@gpc/contracts/secrets';

/**
 * Credentials wherever they might be put in a log entry by mistake: request headers, and practices'
 * settings (a FHIR client secret or bearer token, a Notify API key, an SMTP password) one or two
 * levels down. Practices' stored settings hold these encrypted; what is decrypted to send is never
 * meant to be logged, and is cut out if it is.
 */
export const triageLogRedaction = {
  paths: [
    'req.headers.authorization',
    'req.headers.cookie',
    'res.headers["set-cookie"]',
    ...secretLogRedactPaths,
  ],
  censor: '[redacted]',
};

/** Logs carry ids, never patient data: credentials are redacted and request bodies never logged. */
export function createTriageLogger(level: string, destination?: DestinationStream): Logger {
  const options = { level, base: { service: 'triage' }, redact: triageLogRedaction };
  return destination ? pino(options, destination) : pino(options);
}
