import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Nullable } from '../schema';
import { DisplayName } from '../call/fields';
import { MediaPath } from '../call/ice';
import { QualityReport } from '../call/quality';

/**
 * Call data (what a practice reports on its video consultations): who joined each call and left
 * when, the media path each participant's page took, and the pages' periodic quality summaries.
 * The call node has no database: it posts these as events to triage's internal endpoint
 * (`POST /internal/call-events`, authenticated by a call-node token, never a staff one), which
 * owns the tables; staff read them on the request (`GET /consultations/:id/calls`) and admins
 * export them (`GET /practice/calls.csv`).
 */

/** How a participant's connection ended: they left, it dropped, the clinician put them out, or the call ended. */
export const AttendanceEnd = OneOf(['left', 'disconnected', 'removed', 'refused', 'replaced', 'ended']);
export type AttendanceEnd = Static<typeof AttendanceEnd>;

const Uuid = Type.String({ format: 'uuid' });
/** What every call event carries: its own id (a retry sends the same), the call, and when it happened. */
const EventFields = {
  /** Made by the call node once per event: the same event sent again is recorded once. */
  eventId: Uuid,
  callId: Uuid,
  /** The call's practice, from its call token: an event naming another practice's call is not recorded. */
  practiceId: Type.String({ minLength: 1, maxLength: 64 }),
  at: Type.String({ format: 'date-time' }),
};

/** A participant's connection joined the call; its `eventId` names this attendance in later events. */
export const CallJoinedEvent = Type.Object(
  {
    type: Type.Literal('joined'),
    ...EventFields,
    participantId: Type.String({ minLength: 1, maxLength: 100 }),
    role: OneOf(['clinician', 'patient', 'guest']),
    name: DisplayName,
  },
  { additionalProperties: false },
);

/** That connection ended, and why. */
export const CallLeftEvent = Type.Object(
  { type: Type.Literal('left'), ...EventFields, attendanceId: Uuid, reason: AttendanceEnd },
  { additionalProperties: false },
);

/** That connection was let into the call: admitted from the waiting room, or joined already admitted. */
export const CallAdmittedEvent = Type.Object(
  { type: Type.Literal('admitted'), ...EventFields, attendanceId: Uuid },
  { additionalProperties: false },
);

/** A page's quality summary (its media path with it) over the last `windowSeconds`. */
export const CallQualityEvent = Type.Object(
  { type: Type.Literal('quality'), ...EventFields, attendanceId: Uuid, report: QualityReport },
  { additionalProperties: false },
);

/** The clinician ended the call for everyone, or it ended idle: connections still open end with it. */
export const CallEndedEvent = Type.Object(
  { type: Type.Literal('ended'), ...EventFields },
  { additionalProperties: false },
);

export const CallEvent = Type.Union([
  CallJoinedEvent,
  CallAdmittedEvent,
  CallLeftEvent,
  CallQualityEvent,
  CallEndedEvent,
]);
export type CallEvent = Static<typeof CallEvent>;

/** How many events one post may carry. */
export const maxCallEventsPerPost = 100;

/** `POST /internal/call-events`: events in the order they happened on the call node. */
export const CallEventBatch = Type.Object(
  { events: Type.Array(CallEvent, { minItems: 1, maxItems: maxCallEventsPerPost }) },
  { additionalProperties: false },
);
export type CallEventBatch = Static<typeof CallEventBatch>;

/**
 * What became of a post's events: recorded now, recorded before (a retry), or not recorded (the
 * call is not one triage made for that practice, or the connection it names was never recorded).
 * None of them is worth sending again.
 */
export const CallEventsAccepted = Type.Object({
  recorded: Type.Integer({ minimum: 0 }),
  alreadyRecorded: Type.Integer({ minimum: 0 }),
  notRecorded: Type.Integer({ minimum: 0 }),
});
export type CallEventsAccepted = Static<typeof CallEventsAccepted>;

/** A connection's quality over the call: sums and averages of its pages' summaries. */
export const AttendanceQuality = Type.Object({
  samples: Type.Integer({ minimum: 1 }),
  averageSendKbps: Type.Integer(),
  averageReceiveKbps: Type.Integer(),
  averageLossPercent: Type.Number(),
  worstLossPercent: Type.Number(),
  /** Null when the page could not measure it. */
  averageRoundTripMs: Nullable(Type.Integer()),
  freezeCount: Type.Integer(),
  freezeSeconds: Type.Number(),
});
export type AttendanceQuality = Static<typeof AttendanceQuality>;

/** One connection of one participant, as staff see it. */
export const AttendanceView = Type.Object({
  role: OneOf(['clinician', 'patient', 'guest']),
  name: Type.String(),
  joinedAt: Type.String({ format: 'date-time' }),
  /** When it was let into the call; null while it waited (or if it never was). */
  admittedAt: Nullable(Type.String({ format: 'date-time' })),
  leftAt: Nullable(Type.String({ format: 'date-time' })),
  leftReason: Nullable(AttendanceEnd),
  /** The last path the page reported; null when it reported none. */
  mediaPath: Nullable(MediaPath),
  /** Every path its summaries reported, first seen first (a relay after a direct path shows here). */
  pathsSeen: Type.Array(MediaPath),
  quality: Nullable(AttendanceQuality),
});
export type AttendanceView = Static<typeof AttendanceView>;

/** One call of the request: made when, first joined, ended, how long people were in it, who. */
export const CallDataView = Type.Object({
  callId: Uuid,
  createdAt: Type.String({ format: 'date-time' }),
  /** The first join and the last leave (or the end): null before anyone joined. */
  startedAt: Nullable(Type.String({ format: 'date-time' })),
  endedAt: Nullable(Type.String({ format: 'date-time' })),
  durationSeconds: Nullable(Type.Integer({ minimum: 0 })),
  attendances: Type.Array(AttendanceView),
});
export type CallDataView = Static<typeof CallDataView>;

/** `GET /consultations/:id/calls`: the request's calls, newest first. */
export const CallDataList = Type.Array(CallDataView);
export type CallDataList = Static<typeof CallDataList>;

/**
 * The columns of `GET /practice/calls.csv`, in order: one line per connection (times in ISO 8601
 * UTC). Roles, not names: the report is about the service, and the request's reference leads to
 * the patient for those allowed to see them.
 */
export const callReportColumns = [
  'call_id',
  'request_reference',
  'call_created_at',
  'call_started_at',
  'call_ended_at',
  'call_duration_seconds',
  'role',
  'joined_at',
  'left_at',
  'left_reason',
  'connected_seconds',
  'media_path',
  'paths_seen',
  'quality_samples',
  'average_send_kbps',
  'average_receive_kbps',
  'average_loss_percent',
  'worst_loss_percent',
  'average_round_trip_ms',
  'freeze_count',
  'freeze_seconds',
] as const;

/**
 * The token a call node posts call events with: signed by the call node's own Ed25519 key (triage
 * holds only its public half, `TRIAGE_CALL_NODE_KEYS`), issuer `callNodeIssuer`, audience
 * `callEventsAudience`, `sub` the node, living at most `callEventsTokenMaxSeconds`. It opens that
 * one endpoint and nothing else; triage's own tokens (staff, call links) never open it.
 */
export const callEventsAudience = 'gpc-triage/call-events';
export const callNodeIssuer = 'gpc-call-node';
export const callEventsTokenMaxSeconds = 120;
