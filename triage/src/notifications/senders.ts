import axios, { isAxiosError } from 'axios';
import nodemailer from 'nodemailer';
import { NotifyClient } from 'notifications-node-client';
import {
  checkHostName,
  checkOutboundUrl,
  describeRefusal,
  findRefusal,
  guardedAxiosConfig,
  guardedSmtpSocket,
  networkErrorCode,
  strictOutbound,
  type OutboundPolicy,
  type OutboundRefused,
} from '@gpc/outbound';
import type { NotificationSettings } from './settings';
import { emailBody, emailSubject, type NotificationContent } from './text';

export type Channel = 'email' | 'sms';

export interface SendRequest {
  channel: Channel;
  /** An email address or a mobile number. */
  to: string;
  content: NotificationContent;
  /** Ours, given to the provider as its reference so the two can be matched up. */
  notificationId: string;
}

/** Where a sent notification stands, by the provider's receipts. */
export type Delivery = { state: 'pending' } | { state: 'delivered' } | { state: 'failed'; reason: string };

export interface NotificationSender {
  /** Hands the notification to the provider; resolves to the provider's reference for it. */
  send(request: SendRequest): Promise<string>;
  /** Asks the provider whether it was delivered; absent when the provider gives no receipts (SMTP). */
  checkDelivery?(providerReference: string): Promise<Delivery>;
  close(): void;
}

/** A send that failed. Permanent ones (a refused address, wrong credentials) are not retried. */
export class NotificationSendError extends Error {
  override name = 'NotificationSendError';
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

const timeoutMs = 15_000;

/** What nodemailer's error codes mean, in words staff can act on (never the relay's own text). */
const smtpFailures: Record<string, string> = {
  ETLS: 'the mail relay does not offer TLS (STARTTLS), which is required',
  EAUTH: 'the mail relay refused the user name or password',
  EDNS: 'the mail relay’s name does not resolve',
  ETIMEDOUT: 'the mail relay did not answer in time',
  ECONNREFUSED: 'the mail relay refused the connection',
};

/**
 * SMTP through the practice's relay: accepted by the relay is as far as SMTP can tell. The
 * connection goes through the outbound guard, and is encrypted from the start (`secure`) or by
 * STARTTLS, required, unless the deployment allows plain SMTP to loopback (development).
 */
export function createSmtpSender(
  settings: Extract<NotificationSettings, { provider: 'smtp' }>,
  outbound: OutboundPolicy = strictOutbound,
): NotificationSender {
  const requireTLS = !settings.secure && !outbound.allowLoopbackHttp;
  const plain = !settings.secure && !requireTLS;
  const refused = checkHostName(settings.host, outbound, plain);
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    requireTLS,
    ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    getSocket: guardedSmtpSocket(outbound, { plain, timeoutMs }),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async send(request) {
      if (refused) throw notAllowed("the mail relay's address", refused);
      if (request.channel !== 'email') {
        throw new NotificationSendError('this practice sends by email only', true);
      }
      try {
        const info = await transport.sendMail({
          from: settings.from,
          to: request.to,
          subject: emailSubject(request.content),
          text: emailBody(request.content),
          headers: { 'X-GPC-Notification': request.notificationId },
        });
        return info.messageId;
      } catch (error) {
        const refusal = findRefusal(error);
        if (refusal) throw notAllowed("the mail relay's address", refusal);
        const { responseCode } = error as { responseCode?: number };
        const code = networkErrorCode(error);
        // 5xx is the relay refusing for good (no such mailbox, not allowed); 4xx and no answer may pass
        const permanent = (responseCode !== undefined && responseCode >= 500) || code === 'EAUTH';
        throw new NotificationSendError(
          responseCode
            ? `the mail relay refused it (${responseCode})`
            : `the mail relay did not take it (${(code && smtpFailures[code]) ?? code ?? 'no answer'})`,
          permanent,
        );
      }
    },
    close: () => transport.close(),
  };
}

/** A refusal by the outbound guard: permanent, since only a change of the settings mends it. */
const notAllowed = (place: string, refusal: OutboundRefused) =>
  new NotificationSendError(describeRefusal(place, refusal), true);

/**
 * GOV.UK Notify's documented error messages, the only words of its answers staff are shown (so a
 * base URL pointing elsewhere cannot bring back what some other service says).
 * See: https://docs.notifications.service.gov.uk/node.html#error-codes
 */
const notifyMessages = [
  /^phone_number (Not a UK mobile number|Must not contain letters or symbols|Not enough digits|Too many digits|Not a valid country prefix)$/,
  /^email_address Not a valid email address$/,
  /^Can't send to this recipient using a team-only API key$/,
  /^Can't send to this recipient when service is in trial mode – see https:\/\/www\.notifications\.service\.gov\.uk\/trial-mode$/,
  /^Template not found$/,
  /^template_id is not a valid UUID$/,
  /^Missing personalisation: [a-z_, ]{1,100}$/,
  /^Error: Your system clock must be accurate to within 30 seconds$/,
  /^Invalid token: (API key not found|service not found|service has no API keys|signature, api token not found|signature, api token is not valid)$/,
  /^Exceeded rate limit for key type (TEAM|TEST|LIVE) of \d{1,6} requests per \d{1,6} seconds$/,
  /^Exceeded send limits \(\d{1,9}\) for today$/,
];

/** GOV.UK Notify, by its own client, through the outbound guard; delivery receipts by asking for the notification. */
export function createNotifySender(
  settings: Extract<NotificationSettings, { provider: 'govuk-notify' }>,
  outbound: OutboundPolicy = strictOutbound,
): NotificationSender {
  const client = settings.baseUrl
    ? new NotifyClient(settings.baseUrl, settings.apiKey)
    : new NotifyClient(settings.apiKey);
  client.setClient(axios.create({ timeout: timeoutMs, ...guardedAxiosConfig(outbound) }));
  let refused: OutboundRefused | undefined;
  try {
    if (settings.baseUrl) checkOutboundUrl(settings.baseUrl, outbound);
  } catch (error) {
    refused = findRefusal(error);
    if (!refused) throw error;
  }

  const translate = (error: unknown): NotificationSendError => {
    const refusal = findRefusal(error);
    if (refusal) return notAllowed('the GOV.UK Notify address', refusal);
    if (isAxiosError<{ errors?: { error?: string; message?: string }[] }>(error) && error.response) {
      const { status, data } = error.response;
      if (status >= 300 && status < 400) {
        return new NotificationSendError(
          `GOV.UK Notify answered with a redirect (${status}), which is not followed`,
          true,
        );
      }
      const said = (Array.isArray(data?.errors) ? data.errors : [])
        .map((e) => e?.message ?? '')
        .filter((message) => notifyMessages.some((known) => known.test(message)));
      // 400 (a bad number, a template mismatch) and 403 (the key) will not mend by themselves
      return new NotificationSendError(
        `GOV.UK Notify: ${said.length ? said.join('; ') : `it answered ${status}`}`,
        status === 400 || status === 403,
      );
    }
    const code = networkErrorCode(error);
    return new NotificationSendError(`GOV.UK Notify did not answer${code ? ` (${code})` : ''}`, false);
  };

  return {
    async send(request) {
      if (refused) throw notAllowed('the GOV.UK Notify address', refused);
      const options = {
        personalisation: {
          practice: request.content.practiceName,
          reference: request.content.reference,
          link: request.content.link,
        },
        reference: request.notificationId,
      };
      try {
        const response =
          request.channel === 'email'
            ? await client.sendEmail(settings.emailTemplateId, request.to, options)
            : await client.sendSms(settings.smsTemplateId, request.to, options);
        return (response.data as { id: string }).id;
      } catch (error) {
        throw translate(error);
      }
    },
    async checkDelivery(providerReference) {
      if (refused) throw notAllowed('the GOV.UK Notify address', refused);
      try {
        const response = await client.getNotificationById(providerReference);
        const status = (response.data as { status: string }).status;
        if (status === 'delivered') return { state: 'delivered' };
        if (status.endsWith('failure')) {
          const reason = {
            'permanent-failure': 'the address or number does not exist, or the phone is off for good',
            'temporary-failure': 'the inbox was full or the phone was off for too long',
            'technical-failure': 'GOV.UK Notify could not send it',
          }[status];
          return { state: 'failed', reason: `GOV.UK Notify: ${reason ?? status}` };
        }
        return { state: 'pending' };
      } catch (error) {
        throw translate(error);
      }
    },
    close: () => undefined,
  };
}

/** The sender for a practice's settings, its connections checked by the deployment's outbound policy. */
export function createSender(
  settings: NotificationSettings,
  outbound: OutboundPolicy = strictOutbound,
): NotificationSender {
  return settings.provider === 'smtp'
    ? createSmtpSender(settings, outbound)
    : createNotifySender(settings, outbound);
}
