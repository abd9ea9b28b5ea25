import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { OneOf } from '../schema';
import type { ErrorCode } from '../errors';
import type { IceServer } from './ice';
import { QualityReport } from './quality';
import { CallGuestRole } from './tokens';

/**
 * The video call protocol between browsers and signalling (socket.io). Every client event carries
 * one payload validated against its schema here, and an acknowledgement callback.
 */

const Id = Type.String({ minLength: 1, maxLength: 100 });
// mediasoup's own parameter objects are checked by mediasoup; here only their outer shape and size
const MediasoupObject = Type.Object({}, { additionalProperties: true, maxProperties: 64 });
const Empty = Type.Object({}, { additionalProperties: false });

/** The clinician (from a host token), or whoever a call link lets in. */
export const ParticipantRole = Type.Union([Type.Literal('clinician'), CallGuestRole]);
export type ParticipantRole = Static<typeof ParticipantRole>;

/** Clinicians are admitted at once; patients and guests wait until the clinician admits them. */
export const ParticipantState = OneOf(['waiting', 'admitted']);
export type ParticipantState = Static<typeof ParticipantState>;

export const Participant = Type.Object({
  participantId: Id,
  name: Type.String(),
  role: ParticipantRole,
  state: ParticipantState,
  /** Shown to clinicians: a second device on a link another device holds ("opened on another device"). */
  anotherDevice: Type.Optional(Type.Literal(true)),
  /**
   * Their connection went silent (a phone that put the browser in the background, a lost signal):
   * their place, admission and media are kept for the reconnect grace period, and the others are
   * shown "reconnecting" instead of seeing them leave.
   */
  connection: Type.Optional(Type.Literal('reconnecting')),
});
export type Participant = Static<typeof Participant>;

/**
 * What a producer carries: a microphone, a camera, or a shared screen (the clinician showing a
 * leaflet or an image), which the other pages show large. Sent as the producer's `appData`.
 */
export const ProducerSource = OneOf(['microphone', 'camera', 'screen']);
export type ProducerSource = Static<typeof ProducerSource>;

export const ClientPayloads = {
  'call:join': Empty,
  'call:admit': Type.Object({ participantId: Id }, { additionalProperties: false }),
  'call:remove': Type.Object({ participantId: Id }, { additionalProperties: false }),
  'call:leave': Empty,
  /** The clinician ends the call for everyone: its links open nothing again. */
  'call:end': Empty,
  'transport:create': Type.Object({ direction: OneOf(['send', 'recv']) }, { additionalProperties: false }),
  'transport:connect': Type.Object(
    { transportId: Id, dtlsParameters: MediasoupObject },
    { additionalProperties: false },
  ),
  'transport:restart-ice': Type.Object({ transportId: Id }, { additionalProperties: false }),
  produce: Type.Object(
    {
      transportId: Id,
      kind: OneOf(['audio', 'video']),
      rtpParameters: MediasoupObject,
      /** Absent: the microphone (audio) or the camera (video). A screen is video, and the clinician's. */
      appData: Type.Optional(Type.Object({ source: ProducerSource }, { additionalProperties: false })),
    },
    { additionalProperties: false },
  ),
  /** The sender stops one of its producers (a screen share ends); the others are told producer:closed. */
  'producer:close': Type.Object({ producerId: Id }, { additionalProperties: false }),
  consume: Type.Object(
    { transportId: Id, producerId: Id, rtpCapabilities: MediasoupObject },
    { additionalProperties: false },
  ),
  'consumer:resume': Type.Object({ consumerId: Id }, { additionalProperties: false }),
  'producer:pause': Type.Object({ producerId: Id }, { additionalProperties: false }),
  'producer:resume': Type.Object({ producerId: Id }, { additionalProperties: false }),
  /** On a poor connection, at the participant's choice: receive no video (on), or video again (off). */
  'call:audio-only': Type.Object({ on: Type.Boolean() }, { additionalProperties: false }),
  'chat:send': Type.Object(
    { text: Type.String({ minLength: 1, maxLength: 2000 }) },
    { additionalProperties: false },
  ),
  /** The page's quality summary, at most one per `qualityReportMinIntervalMs`. */
  'call:quality': QualityReport,
} satisfies Record<string, TSchema>;

export type ClientEventName = keyof typeof ClientPayloads;

export interface JoinResult {
  callId: string;
  self: Participant;
  /**
   * For a link's device: the key it presents (handshake `holderKey`) to rejoin as the link's holder.
   * The page keeps it in session storage. A second device's key makes it the holder only if the
   * clinician admits it.
   */
  holderKey?: string;
  participants: Participant[];
  routerRtpCapabilities: Record<string, unknown>;
  /** The call's TURN servers with this participant's time-limited credentials; empty without TURN. */
  iceServers: IceServer[];
}
export interface TransportResult {
  transportId: string;
  iceParameters: Record<string, unknown>;
  iceCandidates: Record<string, unknown>[];
  dtlsParameters: Record<string, unknown>;
}
export interface ConsumeResult {
  consumerId: string;
  producerId: string;
  kind: 'audio' | 'video';
  rtpParameters: Record<string, unknown>;
}
export interface ProducerInfo {
  producerId: string;
  participantId: string;
  kind: 'audio' | 'video';
  source: ProducerSource;
}

/** What each event's acknowledgement carries on success. */
export interface ClientResults {
  'call:join': JoinResult;
  'call:admit': NoData;
  'call:remove': NoData;
  'call:leave': NoData;
  'call:end': NoData;
  'transport:create': TransportResult;
  'transport:connect': NoData;
  /** With fresh TURN credentials: those of the join may have run out in a long call. */
  'transport:restart-ice': { iceParameters: Record<string, unknown>; iceServers: IceServer[] };
  produce: { producerId: string };
  consume: ConsumeResult;
  'consumer:resume': NoData;
  'call:audio-only': NoData;
  'producer:pause': NoData;
  'producer:resume': NoData;
  'producer:close': NoData;
  'chat:send': NoData;
  'call:quality': NoData;
}
type NoData = Record<string, never>;

/** Why a request was refused: a stable code (contracts/src/errors.ts) and words for a person. */
export interface AckError {
  code: ErrorCode;
  message: string;
}
export interface ConnectionQualityChange {
  quality: 'good' | 'poor';
  /** Kilobits per second the SFU estimates it can send to this participant. */
  availableKbps: number;
}

/**
 * The path from this participant to the call node: `congested` (it lost packets; their page stops
 * its camera's encodings so the link carries their audio), or `clear` again (the page starts them,
 * unless the person turned the camera off or chose audio only). Audio is never touched.
 */
export const UplinkChange = Type.Object(
  { state: OneOf(['congested', 'clear']) },
  { additionalProperties: false },
);
export type UplinkChange = Static<typeof UplinkChange>;

export type Ack<T> = { ok: true; data: T } | { ok: false; error: AckError };

export type ClientToServerEvents = {
  [E in ClientEventName]: (
    payload: Static<(typeof ClientPayloads)[E]>,
    ack: (result: Ack<ClientResults[E]>) => void,
  ) => void;
};

/**
 * Why a participant is out of the call: removed by the clinician; refused (a second device the
 * clinician did not let take the link over); replaced (the clinician let another device take the
 * link over); or the call ended.
 */
export const RemovalReason = OneOf(['removed', 'refused', 'replaced', 'ended']);
export type RemovalReason = Static<typeof RemovalReason>;

export interface ServerToClientEvents {
  /** To every admitted participant: who is in the call and who waits to be admitted. */
  'participants:updated': (participants: Participant[]) => void;
  /** To a waiting participant: you may now create transports and produce. */
  admitted: () => void;
  /** To a participant who is out of the call, and why; their socket closes after it. */
  removed: (why: { reason: RemovalReason }) => void;
  /** To clinicians: a link another device holds was opened on this device too; Admit or Remove it. */
  'link:opened-elsewhere': (device: { participantId: string; name: string; role: ParticipantRole }) => void;
  'producer:new': (producer: ProducerInfo) => void;
  'producer:closed': (producer: { producerId: string }) => void;
  /** The server lost the call's media (e.g. a worker died): join again from scratch. */
  'call:rejoin': (reason: { reason: string }) => void;
  'chat:message': (message: { participantId: string; name: string; text: string; at: string }) => void;
  /**
   * To one participant: what the path to them carries (the SFU's estimate) has stayed low (`poor`:
   * the page offers audio only) or recovered (`good`).
   */
  'connection:quality': (change: ConnectionQualityChange) => void;
  /** To one participant: what their page sends is being lost on the way (see UplinkChange). */
  'connection:uplink': (change: UplinkChange) => void;
}

/**
 * Socket.io handshake `auth`: a call token triage signed (a patient's or guest's link, or a host
 * token for the member of staff running the call); the token names the call. `callId` is ignored.
 */
export const HandshakeAuth = Type.Object(
  {
    token: Type.String({ minLength: 10, maxLength: 4096 }),
    callId: Type.Optional(Id),
    /** The link holder's key, from the join that gave it (kept in the page's session storage). */
    holderKey: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  },
  { additionalProperties: false },
);
export type HandshakeAuth = Static<typeof HandshakeAuth>;
