import { TypeCompiler } from '@sinclair/typebox/compiler';
import { NotificationSettings } from '@gpc/contracts';

// the settings' schemas are the REST contract's (an admin sets them with PATCH /practice)
export { NotifySettings, SmtpSettings, NotificationSettings } from '@gpc/contracts';

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
