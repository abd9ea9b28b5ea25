import { pino, type Logger } from 'pino';

/** Logs carry ids, never patient data: credentials are redacted and request bodies never logged. */
export function createTriageLogger(level: string): Logger {
  return pino({
    level,
    base: { service: 'triage' },
    redact: {
      paths: ['req.headers.authorization', 'req.headers.cookie', 'res.headers["set-cookie"]'],
      censor: '[redacted]',
    },
  });
}
