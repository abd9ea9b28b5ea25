// A link sent to the patient as staff see it: the schema is the REST contract's, the row and its
// mapper the notification repository's. Kept here for the routes that still import them from here.
export { NotificationView } from '@gpc/contracts';
export { notificationColumns, toNotificationView, type NotificationRow } from '../db/notifications';
