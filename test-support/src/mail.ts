import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';

export interface ReceivedMail {
  to: string[];
  from: string;
  subject: string;
  text: string;
}

export interface MailRelay {
  port: number;
  received: ReceivedMail[];
  /** Refuse every message with this SMTP reply code from now on (undefined: accept). */
  refuseWith(code: number | undefined): void;
  close(): Promise<void>;
}

/**
 * A real SMTP server (the library maildev is built on) standing in for a practice's mail relay:
 * it speaks SMTP to nodemailer and keeps what it accepts, parsed.
 */
export async function startMailRelay(port = 0): Promise<MailRelay> {
  const received: ReceivedMail[] = [];
  let refusal: number | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onRcptTo(address, _session, callback) {
      if (refusal) {
        const error = Object.assign(new Error('Mailbox unavailable'), { responseCode: refusal });
        callback(error);
        return;
      }
      callback();
    },
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          received.push({
            to: [mail.to]
              .flat()
              .flatMap((address) => address?.value.map((value) => value.address ?? '') ?? []),
            from: mail.from?.text ?? '',
            subject: mail.subject ?? '',
            text: mail.text ?? '',
          });
          callback();
        },
        (error: Error) => callback(error),
      );
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    port: (server.server.address() as AddressInfo).port,
    received,
    refuseWith(code) {
      refusal = code;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}
