import type { NotificationView } from '@gpc/contracts';
import type { Queryable } from './queryable';

/**
 * Links to patients (`notification`): written with the staff message that needs one (the outbox),
 * then claimed, sent, delivered or failed by the notification worker. Every change of a
 * notification's status is one of the named functions here.
 */

export interface NotificationRow {
  id: string;
  channel: 'email' | 'sms';
  destination: string;
  status: 'queued' | 'sent' | 'delivered' | 'failed';
  attempts: number;
  last_error: string | null;
  created_at: Date;
  sent_at: Date | null;
  delivered_at: Date | null;
}

const notificationColumns =
  'id, channel, destination, status, attempts, last_error, created_at, sent_at, delivered_at';

export const toNotificationView = (row: NotificationRow): NotificationView => ({
  id: row.id,
  channel: row.channel,
  destination: row.destination,
  status: row.status,
  attempts: row.attempts,
  lastError: row.last_error,
  createdAt: row.created_at.toISOString(),
  sentAt: row.sent_at?.toISOString() ?? null,
  deliveredAt: row.delivered_at?.toISOString() ?? null,
});

/** The links sent (or being sent) to the patient of the practice's request, oldest first. */
export async function listNotifications(
  db: Queryable,
  consultationId: string,
  practiceId: string,
): Promise<NotificationView[]> {
  const { rows } = await db.query<NotificationRow>(
    `SELECT ${notificationColumns} FROM notification WHERE consultation_id = $1 AND practice_id = $2 ORDER BY created_at`,
    [consultationId, practiceId],
  );
  return rows.map(toNotificationView);
}

export interface NewNotification {
  practiceId: string;
  consultationId: string;
  messageId: string;
  channel: 'email' | 'sms';
  /** Empty when there is no way to reach the patient. */
  destination: string;
  provider: string;
  /** 'failed' (with `lastError` saying why) when there is no way to reach the patient. */
  status: 'queued' | 'failed';
  lastError: string | null;
}

export async function insertNotification(
  db: Queryable,
  notification: NewNotification,
): Promise<NotificationRow> {
  const { rows } = await db.query<NotificationRow>(
    `INSERT INTO notification (practice_id, consultation_id, message_id, channel, destination, provider, status, last_error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING ${notificationColumns}`,
    [
      notification.practiceId,
      notification.consultationId,
      notification.messageId,
      notification.channel,
      notification.destination,
      notification.provider,
      notification.status,
      notification.lastError,
    ],
  );
  return rows[0]!;
}

/** A notification as the worker sends it or checks its delivery: with its practice and request. */
export interface ClaimedNotificationRow {
  id: string;
  practice_id: string;
  consultation_id: string;
  channel: 'email' | 'sms';
  destination: string;
  attempts: number;
  provider_reference: string | null;
  notification_settings: unknown;
  practice_name: string;
  reference: string;
}

const claimColumns = `n.id, n.practice_id, n.consultation_id, n.channel, n.destination, n.attempts, n.provider_reference,
  p.notification_settings, p.name AS practice_name, c.reference`;

/** Takes a queued notification for one more attempt at sending; undefined when it is no longer queued. */
export async function claimQueuedNotification(
  db: Queryable,
  notificationId: string,
): Promise<ClaimedNotificationRow | undefined> {
  const { rows } = await db.query<ClaimedNotificationRow>(
    `UPDATE notification n SET attempts = n.attempts + 1, updated_at = now()
       FROM practice p, consultation c
      WHERE n.id = $1 AND n.status = 'queued' AND p.id = n.practice_id AND c.id = n.consultation_id
      RETURNING ${claimColumns}`,
    [notificationId],
  );
  return rows[0];
}

/** A sent notification whose delivery is yet to be known; undefined otherwise. */
export async function findSentNotification(
  db: Queryable,
  notificationId: string,
): Promise<ClaimedNotificationRow | undefined> {
  const { rows } = await db.query<ClaimedNotificationRow>(
    `SELECT ${claimColumns} FROM notification n JOIN practice p ON p.id = n.practice_id
       JOIN consultation c ON c.id = n.consultation_id WHERE n.id = $1 AND n.status = 'sent'`,
    [notificationId],
  );
  return rows[0];
}

/** The provider took it: queued -> sent. */
export async function markNotificationSent(
  db: Queryable,
  notificationId: string,
  providerReference: string,
): Promise<void> {
  await db.query(
    `UPDATE notification SET status = 'sent', sent_at = now(), provider_reference = $2, last_error = NULL, updated_at = now()
      WHERE id = $1 AND status = 'queued'`,
    [notificationId, providerReference],
  );
}

/** The provider's receipt says it arrived: sent -> delivered. */
export async function markNotificationDelivered(db: Queryable, notificationId: string): Promise<void> {
  await db.query(
    `UPDATE notification SET status = 'delivered', delivered_at = now(), updated_at = now() WHERE id = $1 AND status = 'sent'`,
    [notificationId],
  );
}

/** It will never arrive, for `reason`: queued or sent -> failed. */
export async function markNotificationFailed(
  db: Queryable,
  notificationId: string,
  reason: string,
): Promise<void> {
  await db.query(
    `UPDATE notification SET status = 'failed', last_error = $2, updated_at = now() WHERE id = $1 AND status IN ('queued', 'sent')`,
    [notificationId, reason],
  );
}

/** An attempt failed and will be retried: the reason shows to staff meanwhile. */
export async function noteNotificationError(
  db: Queryable,
  notificationId: string,
  reason: string,
): Promise<void> {
  await db.query('UPDATE notification SET last_error = $2, updated_at = now() WHERE id = $1', [
    notificationId,
    reason,
  ]);
}

/** Queued notifications untouched for `olderThanMs`: their job may have been lost. At most 1,000, oldest first. */
export async function findStaleQueuedNotifications(db: Queryable, olderThanMs: number): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `SELECT id FROM notification WHERE status = 'queued' AND updated_at < now() - make_interval(secs => $1)
      ORDER BY updated_at LIMIT 1000`,
    [olderThanMs / 1000],
  );
  return rows.map((row) => row.id);
}
