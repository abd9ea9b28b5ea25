import { Type, type Static } from '@sinclair/typebox';
import { Nullable } from '../schema';
import { NotificationView } from './notifications';
import { UploadedFiles } from './submissions';

/** One message on a request's thread, from staff or from the patient. */
export const ThreadMessage = Type.Object({
  id: Type.String(),
  /** 'staff' or 'patient'. */
  author: Type.String(),
  body: Type.String(),
  at: Type.String({ format: 'date-time' }),
});
export type ThreadMessage = Static<typeof ThreadMessage>;

const MessageText = Type.String({ minLength: 1, maxLength: 5000, pattern: '\\S' });

/** `POST /consultations/:id/messages`: staff write to the patient. */
export const StaffMessageBody = Type.Object({ body: MessageText }, { additionalProperties: false });
export type StaffMessageBody = Static<typeof StaffMessageBody>;

/** The answer to a staff message: the message, the patient's link, and how the link goes to them. */
export const StaffMessageSent = Type.Object({
  message: ThreadMessage,
  threadLink: Type.String(),
  /** How the link goes to the patient; null when the practice sends links itself. */
  notification: Nullable(NotificationView),
});
export type StaffMessageSent = Static<typeof StaffMessageSent>;

/** `POST /threads/unlock`: the patient opens their thread with the link's token and their date of birth. */
export const ThreadUnlockBody = Type.Object(
  {
    token: Type.String({ minLength: 10, maxLength: 2000 }),
    birthDate: Type.String({ format: 'date' }),
  },
  { additionalProperties: false },
);
export type ThreadUnlockBody = Static<typeof ThreadUnlockBody>;

/** An unlocked thread: a short session token for the patient's reads and replies, and the request's reference. */
export const ThreadUnlocked = Type.Object({ sessionToken: Type.String(), reference: Type.String() });
export type ThreadUnlocked = Static<typeof ThreadUnlocked>;

/** `GET /consultations/:id/messages`: the thread as staff read it. */
export const StaffMessagesQuery = Type.Object(
  {
    /**
     * true when the messages are being shown to the member of staff now, as they open the request:
     * the patient's messages returned are recorded as seen by them, and only then may they close it.
     * Left out by background reloads (a live update), which must not count as seen.
     */
    markSeen: Type.Boolean({ default: false }),
  },
  { additionalProperties: false },
);
export type StaffMessagesQuery = Static<typeof StaffMessagesQuery>;

/** `POST /threads/messages`: the patient replies, with photos uploaded through `/threads/uploads`. */
export const PatientReplyBody = Type.Object(
  {
    body: MessageText,
    /**
     * The patient's answer to "Is this urgent?" (contracts/src/forms/reply-urgency.ts), asked before
     * every reply as the form asks its red-flag questions. Required: only `false` is sent on; `true`
     * is refused with the 999 / NHS 111 advice (422 `redFlag`), since nobody reads replies at once.
     */
    urgent: Type.Boolean(),
    /** Photos uploaded with /threads/uploads. */
    attachments: Type.Optional(UploadedFiles),
  },
  { additionalProperties: false },
);
export type PatientReplyBody = Static<typeof PatientReplyBody>;

/** The answer to a patient's reply: the message, and when the practice will read it. */
export const PatientReplySent = Type.Composite([
  ThreadMessage,
  Type.Object({
    /**
     * Set when the practice is closed now: when it next opens (null if no opening is set in the next
     * two weeks), and a sentence saying so, in the practice's time zone, to show the patient.
     */
    practiceClosed: Nullable(
      Type.Object({ opensAt: Nullable(Type.String({ format: 'date-time' })), message: Type.String() }),
    ),
  }),
]);
export type PatientReplySent = Static<typeof PatientReplySent>;
