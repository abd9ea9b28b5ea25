import { Writable } from 'node:stream';
import { pino, type Logger } from 'pino';

/** A logger whose lines are kept, to check what a service writes to its logs (and what it never does). */
export function capturedLogger(level: 'debug' | 'info'): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = pino(
    { level },
    new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(chunk.toString());
        done();
      },
    }),
  );
  return { logger, lines };
}
