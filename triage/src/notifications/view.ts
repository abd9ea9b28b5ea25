import { Type } from '@sinclair/typebox';

/** A link sent (or being sent) to the patient, as staff see it on the request. */
export const NotificationView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  channel: Type.Union([Type.Literal('email'), Type.Literal('sms')]),
  /** Empty when there was no way to reach the patient. */
  destination: Type.String(),
  status: Type.Union([
    Type.Literal('queued'),
    Type.Literal('sent'),
    Type.Literal('delivered'),
    Type.Literal('failed'),
  ]),
  attempts: Type.Integer(),
  lastError: Type.Union([Type.String(), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
  sentAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  deliveredAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
});

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

export const notificationColumns =
  'id, channel, destination, status, attempts, last_error, created_at, sent_at, delivered_at';

export const toNotificationView = (row: NotificationRow) => ({
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
