import axios, { isAxiosError } from 'axios';
import nodemailer from 'nodemailer';
import { NotifyClient } from 'notifications-node-client';
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

/** SMTP through the practice's relay: accepted by the relay is as far as SMTP can tell. */
export function createSmtpSender(
  settings: Extract<NotificationSettings, { provider: 'smtp' }>,
): NotificationSender {
  const transport = nodemailer.createTransport({
    host: settings.host,
    port: settings.port,
    secure: settings.secure,
    ...(settings.user ? { auth: { user: settings.user, pass: settings.password ?? '' } } : {}),
    connectionTimeout: timeoutMs,
    greetingTimeout: timeoutMs,
    socketTimeout: timeoutMs,
  });
  return {
    async send(request) {
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
        const { responseCode, code, message } = error as {
          responseCode?: number;
          code?: string;
          message: string;
        };
        // 5xx is the relay refusing for good (no such mailbox, not allowed); 4xx and no answer may pass
        const permanent = (responseCode !== undefined && responseCode >= 500) || code === 'EAUTH';
        throw new NotificationSendError(
          responseCode
            ? `the mail relay refused it (${responseCode})`
            : `the mail relay did not take it (${code ?? message})`,
          permanent,
        );
      }
    },
    close: () => transport.close(),
  };
}

/** GOV.UK Notify, by its own client; delivery receipts by asking for the notification. */
export function createNotifySender(
  settings: Extract<NotificationSettings, { provider: 'govuk-notify' }>,
): NotificationSender {
  const client = settings.baseUrl
    ? new NotifyClient(settings.baseUrl, settings.apiKey)
    : new NotifyClient(settings.apiKey);
  client.setClient(axios.create({ timeout: timeoutMs }));

  const translate = (error: unknown): NotificationSendError => {
    if (isAxiosError<{ errors?: { error?: string; message?: string }[] }>(error) && error.response) {
      const { status, data } = error.response;
      const said = data.errors?.map((e) => e.message ?? e.error).join('; ') ?? `status ${status}`;
      // 400 (a bad number, a template mismatch) and 403 (the key) will not mend by themselves
      return new NotificationSendError(`GOV.UK Notify: ${said}`, status === 400 || status === 403);
    }
    return new NotificationSendError(`GOV.UK Notify did not answer (${(error as Error).message})`, false);
  };

  return {
    async send(request) {
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

/** The sender for a practice's settings. */
export function createSender(settings: NotificationSettings): NotificationSender {
  return settings.provider === 'smtp' ? createSmtpSender(settings) : createNotifySender(settings);
}
