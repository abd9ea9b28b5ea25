import type { AddressInfo } from 'node:net';
import { simpleParser } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import { storedSetting } from './secrets';

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
  /** With `login`: each sign-in tried, and whether its password was the right one (never the password). */
  logins: { user: string; accepted: boolean }[];
  close(): Promise<void>;
}

/**
 * A real SMTP server (the library maildev is built on) standing in for a practice's mail relay:
 * it speaks SMTP to nodemailer and keeps what it accepts, parsed. With `login`, it takes mail only
 * from a client signed in with that user and password (over plain SMTP: it runs on loopback).
 */
export async function startMailRelay(
  port = 0,
  options: { login?: { user: string; password: string } } = {},
): Promise<MailRelay> {
  const received: ReceivedMail[] = [];
  const logins: MailRelay['logins'] = [];
  let refusal: number | undefined;
  const { login } = options;
  const server = new SMTPServer({
    authOptional: !login,
    disabledCommands: ['STARTTLS'],
    logger: false,
    ...(login
      ? {
          allowInsecureAuth: true,
          authMethods: ['PLAIN', 'LOGIN'],
          onAuth(auth, _session, callback) {
            const accepted = auth.username === login.user && auth.password === login.password;
            logins.push({ user: auth.username ?? '', accepted });
            if (accepted) callback(null, { user: auth.username });
            else callback(Object.assign(new Error('Invalid username or password'), { responseCode: 535 }));
          },
        }
      : {}),
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
    logins,
    refuseWith(code) {
      refusal = code;
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * Has the practice send its links to patients through `relay` (plain SMTP on loopback), stored as
 * triage stores it (sealed). `pool` is the test database's.
 */
export async function sendPracticeMailThrough(
  pool: { query(text: string, values: unknown[]): Promise<unknown> },
  practiceId: string,
  relay: Pick<MailRelay, 'port'>,
): Promise<void> {
  await pool.query('UPDATE practice SET notification_settings = $2 WHERE id = $1', [
    practiceId,
    storedSetting(practiceId, 'notification_settings', {
      provider: 'smtp',
      host: '127.0.0.1',
      port: relay.port,
      secure: false,
      from: 'Riverside Surgery <riverside@example.org>',
    }),
  ]);
}
