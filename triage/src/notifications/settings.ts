import { Type, type Static } from '@sinclair/typebox';
import { TypeCompiler } from '@sinclair/typebox/compiler';

/** A practice's own mail relay (NHSmail, or the practice's provider). Email only. */
export const SmtpSettings = Type.Object(
  {
    provider: Type.Literal('smtp'),
    host: Type.String({ minLength: 1 }),
    port: Type.Integer({ minimum: 1, maximum: 65535 }),
    /** TLS from the start (465); otherwise STARTTLS is used when the relay offers it. */
    secure: Type.Boolean(),
    user: Type.Optional(Type.String({ minLength: 1 })),
    password: Type.Optional(Type.String({ minLength: 1 })),
    /** e.g. "Riverside Surgery <riverside.surgery@nhs.net>" */
    from: Type.String({ minLength: 3 }),
  },
  { additionalProperties: false },
);

// a pattern, not `format: 'uuid'`: the compiled checker knows no formats unless they are registered
const uuidPattern = '^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$';

/** GOV.UK Notify: email and text messages, with delivery receipts. */
export const NotifySettings = Type.Object(
  {
    provider: Type.Literal('govuk-notify'),
    apiKey: Type.String({ minLength: 74 }),
    /** Templates with the placeholders ((practice)), ((reference)) and ((link)). */
    emailTemplateId: Type.String({ pattern: uuidPattern }),
    smsTemplateId: Type.String({ pattern: uuidPattern }),
    /** Notify's API; set only to point at a stand-in. */
    baseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
  },
  { additionalProperties: false },
);

export const NotificationSettings = Type.Union([SmtpSettings, NotifySettings]);
export type NotificationSettings = Static<typeof NotificationSettings>;

const check = TypeCompiler.Compile(NotificationSettings);

/** The practice's settings if they are complete and valid; undefined otherwise (never throws). */
export function parseNotificationSettings(value: unknown): NotificationSettings | undefined {
  return check.Check(value) ? value : undefined;
}

/** The channels a provider can send on. */
export const channelsOf = (settings: NotificationSettings): readonly ('email' | 'sms')[] =>
  settings.provider === 'smtp' ? ['email'] : ['email', 'sms'];

export interface PatientContact {
  phone: string | null;
  email: string | null;
  preferred: 'phone' | 'sms' | 'email' | null;
}

/**
 * How to reach the patient with a link: the way they asked for when the practice's provider can
 * send it, otherwise the other; undefined, with the reason, when there is no way.
 */
export function chooseChannel(
  settings: NotificationSettings | undefined,
  contact: PatientContact,
): { channel: 'email' | 'sms'; destination: string } | { unreachable: string } {
  const available = settings ? channelsOf(settings) : (['email', 'sms'] as const);
  const order: ('email' | 'sms')[] = contact.preferred === 'email' ? ['email', 'sms'] : ['sms', 'email'];
  for (const channel of order) {
    const destination = channel === 'email' ? contact.email : contact.phone;
    if (destination && available.includes(channel)) return { channel, destination };
  }
  return {
    unreachable: available.includes('sms')
      ? 'the patient gave no phone number or email address: phone or write to them'
      : 'the patient gave no email address, and this practice sends by email only: phone them',
  };
}
