import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Nullable } from '../schema';

/** A link sent (or being sent) to the patient, as staff see it on the request. */
export const NotificationView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  channel: OneOf(['email', 'sms']),
  /** Empty when there was no way to reach the patient. */
  destination: Type.String(),
  status: OneOf(['queued', 'sent', 'delivered', 'failed']),
  attempts: Type.Integer(),
  lastError: Nullable(Type.String()),
  createdAt: Type.String({ format: 'date-time' }),
  sentAt: Nullable(Type.String({ format: 'date-time' })),
  deliveredAt: Nullable(Type.String({ format: 'date-time' })),
});
export type NotificationView = Static<typeof NotificationView>;
