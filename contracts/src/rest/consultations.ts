import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Nullable } from '../schema';
import { ShownAnswer } from '../summary';
import { ErrorBody } from './common';
import { IdentityView } from './identity';
import { ThreadMessage } from './messages';
import { NotificationView } from './notifications';
import { WriteBackStatusSchema, WriteBackView } from './write-backs';

const Uuid = Type.String({ format: 'uuid' });

export const ConsultationStatus = OneOf(['new', 'in_progress', 'awaiting_patient', 'closed']);
export type ConsultationStatus = Static<typeof ConsultationStatus>;

export const ConsultationPriority = OneOf(['urgent', 'soon', 'routine']);
export type ConsultationPriority = Static<typeof ConsultationPriority>;

export const ConsultationKind = OneOf(['medical', 'admin']);
export type ConsultationKind = Static<typeof ConsultationKind>;

/** One request in the practice's queue. */
export const QueueItem = Type.Object({
  id: Uuid,
  reference: Type.String(),
  kind: ConsultationKind,
  status: ConsultationStatus,
  priority: ConsultationPriority,
  patientName: Type.String(),
  assignedTo: Nullable(Uuid),
  createdAt: Type.String({ format: 'date-time' }),
  ageMinutes: Type.Integer(),
  /** Where a closed request's summary stands on its way into the GP record; null while open. */
  writeBackStatus: Nullable(WriteBackStatusSchema),
  /**
   * When its first action is due (created + the practice's response target for its priority); null
   * once it has been actioned (a member of staff messaged the patient, or it was closed).
   */
  dueAt: Nullable(Type.String({ format: 'date-time' })),
  /** Past `dueAt` and not actioned yet, by the database's clock when it was read. */
  overdue: Type.Boolean(),
  /** Sent past an urgent red flag (the patient was told to call 111 or the practice now, and sent anyway). */
  redFlag: Nullable(Type.Literal('urgent')),
  /** The practice's date the patient was told to expect a reply by (e.g. the next working day when busy). */
  replyBy: Nullable(Type.String({ format: 'date' })),
});
export type QueueItem = Static<typeof QueueItem>;

/** `GET /consultations/overdue`: how many of the practice's open requests are past their response target. */
export const OverdueCount = Type.Object({ overdue: Type.Integer({ minimum: 0 }) });
export type OverdueCount = Static<typeof OverdueCount>;

/** `GET /consultations`: the queue's filters. */
export const QueueQuery = Type.Object(
  {
    status: Type.Optional(ConsultationStatus),
    priority: Type.Optional(ConsultationPriority),
    kind: Type.Optional(ConsultationKind),
    assignee: Type.Optional(Type.Union([Type.Literal('me'), Type.Literal('none'), Uuid])),
    olderThanMinutes: Type.Optional(Type.Integer({ minimum: 0, maximum: 525_600 })),
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);
export type QueueQuery = Static<typeof QueueQuery>;

/** `PATCH /consultations/:id`: assign, prioritise or move an open request along (closing has its own route). */
export const ConsultationChange = Type.Object(
  {
    status: Type.Optional(OneOf(['new', 'in_progress', 'awaiting_patient'])),
    priority: Type.Optional(ConsultationPriority),
    assignedTo: Type.Optional(Nullable(Uuid)),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type ConsultationChange = Static<typeof ConsultationChange>;

/** `POST /consultations/:id/close`: the coded outcome and the summary for the GP record. */
export const CloseConsultationBody = Type.Object(
  {
    // SNOMED CT concept id of the outcome
    outcomeCode: Type.String({ pattern: '^[0-9]{6,18}$' }),
    outcomeDisplay: Type.String({ minLength: 1, maxLength: 200 }),
    summary: Type.String({ minLength: 1, maxLength: 20_000 }),
  },
  { additionalProperties: false },
);
export type CloseConsultationBody = Static<typeof CloseConsultationBody>;

/**
 * `POST /consultations/:id/close` refused with 409: the error body, and when the refusal is because
 * the patient wrote after the closer last opened the request, those messages (`code` 'conflict'),
 * oldest first. The request can be closed once the closer has been shown them
 * (`GET /consultations/:id/messages?markSeen=true`).
 */
export const CloseRefusal = Type.Composite([
  ErrorBody,
  Type.Object({ unseenMessages: Type.Optional(Type.Array(ThreadMessage)) }),
]);
export type CloseRefusal = Static<typeof CloseRefusal>;

/** `GET /consultations/:id`: one request in full. */
export const ConsultationDetail = Type.Composite([
  QueueItem,
  Type.Object({
    birthDate: Type.String(),
    nhsNumber: Nullable(Type.String()),
    contact: Type.Object({
      phone: Nullable(Type.String()),
      email: Nullable(Type.String()),
      preferred: Nullable(Type.String()),
      times: Nullable(Type.String()),
    }),
    submittedBy: Nullable(Type.Object({ name: Type.String(), relationship: Type.String() })),
    formTitle: Nullable(Type.String()),
    /**
     * The patient's answers in the words of the form version they answered (never the text a client
     * sent), every answer of each question; empty without a form.
     */
    answers: Type.Array(ShownAnswer),
    outcome: Nullable(Type.String()),
    summary: Nullable(Type.String()),
    /** Who has the request open now (within 15 minutes). */
    claimedBy: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
    writeBack: Nullable(WriteBackView),
    /** Who the patient is as far as the service can tell (PDS trace, NHS login), and who confirmed it. */
    identity: IdentityView,
    /** Links sent to the patient by email or text, newest last, with where each stands. */
    notifications: Type.Array(NotificationView),
  }),
]);
export type ConsultationDetail = Static<typeof ConsultationDetail>;
