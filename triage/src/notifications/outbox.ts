import { insertNotification, type NotificationRow } from '../db/notifications';
import type { Queryable } from '../db/queryable';
import { chooseChannel, parseNotificationSettings, type PatientContact } from './settings';

export interface ThreadLinkNeeded {
  practiceId: string;
  consultationId: string;
  /** The staff message the link is for. */
  messageId: string;
  contact: PatientContact;
  /** The practice's provider settings as stored: null when staff send links themselves. */
  notificationSettings: unknown;
}

/**
 * Writes the notification that takes the thread link to the patient, in the caller's transaction
 * (the outbox: a queue outage delays it, never loses it). No way to reach the patient is recorded
 * too, as a failed notification saying why. Undefined when the practice sends links itself.
 */
export async function recordThreadLinkNotification(
  db: Queryable,
  needed: ThreadLinkNeeded,
): Promise<NotificationRow | undefined> {
  if (needed.notificationSettings === null) return undefined;
  const settings = parseNotificationSettings(needed.notificationSettings);
  const route = chooseChannel(settings, needed.contact);
  const reached =
    'unreachable' in route
      ? {
          channel: 'email' as const,
          destination: '',
          status: 'failed' as const,
          lastError: route.unreachable,
        }
      : {
          channel: route.channel,
          destination: route.destination,
          status: 'queued' as const,
          lastError: null,
        };
  return insertNotification(db, {
    practiceId: needed.practiceId,
    consultationId: needed.consultationId,
    messageId: needed.messageId,
    provider: settings?.provider ?? 'smtp',
    ...reached,
  });
}
