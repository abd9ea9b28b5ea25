import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

export const MailCatcherConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    /** Where practices' "relay" is: the service sends patients' emails here in development. */
    smtpPort: Type.Integer({ minimum: 1, maximum: 65535, default: 1025 }),
    /** The inbox in a browser, and its API. */
    webPort: Type.Integer({ minimum: 1, maximum: 65535, default: 1080 }),
  },
  { additionalProperties: false },
);
export type MailCatcherConfig = Static<typeof MailCatcherConfigSchema>;

/** From MAIL_HOST, MAIL_SMTP_PORT and MAIL_WEB_PORT. */
export const loadMailCatcherConfig = (env?: Record<string, string | undefined>): MailCatcherConfig =>
  loadConfig(MailCatcherConfigSchema, 'MAIL', env);
