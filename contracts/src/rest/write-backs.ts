import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Nullable } from '../schema';
import { WriteBackStatuses } from '../jobs';
import { IdentityStatus } from './identity';

/** Where a closed request's summary stands on its way into the GP record (the type is `WriteBackStatus`). */
export const WriteBackStatusSchema = OneOf(WriteBackStatuses);

/** How a practice's write-backs reach its GP system. */
export const WriteBackTransports = ['fhir-r4', 'gp-connect-send-document'] as const;
export const WriteBackTransportSchema = OneOf(WriteBackTransports);
export type WriteBackTransport = (typeof WriteBackTransports)[number];

/** One ITK3 (or MESH) acknowledgement of a Send Document message: its code, in words, and when. */
export const SendDocumentAck = Type.Object({
  code: Type.String(),
  text: Type.String(),
  at: Type.String({ format: 'date-time' }),
});
export type SendDocumentAck = Static<typeof SendDocumentAck>;

/** The GP Connect Send Document message a write-back stands on now, and what came back for it. */
export const SendDocumentView = Type.Object({
  itkMessageId: Type.String(),
  meshMessageId: Nullable(Type.String()),
  sentAt: Nullable(Type.String({ format: 'date-time' })),
  /** 20013 delivered it; any other code refused it. */
  infrastructure: Nullable(SendDocumentAck),
  /** 30001 filed it in the GP system's workflow; 30002/30003/30004 need a person. */
  business: Nullable(SendDocumentAck),
  /** MESH's own report: it could not deliver the message. */
  report: Nullable(SendDocumentAck),
});
export type SendDocumentView = Static<typeof SendDocumentView>;

/** A closed request's summary on its way into the GP record. */
export const WriteBackView = Type.Object({
  status: WriteBackStatusSchema,
  attempts: Type.Integer(),
  /** The GP system's own words when it refused, or what went wrong on the way. */
  lastError: Nullable(Type.String()),
  lastAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  filedAt: Nullable(Type.String({ format: 'date-time' })),
  /** Where the GP system filed each resource. */
  serverLocations: Type.Array(Type.String()),
  /** Left out for FHIR R4 (as before transports were told apart). */
  transport: Type.Optional(WriteBackTransportSchema),
  /** GP Connect Send Document only: the message and its acknowledgements (null before one is sent). */
  sendDocument: Type.Optional(Nullable(SendDocumentView)),
});
export type WriteBackView = Static<typeof WriteBackView>;

/** `GET /write-backs`: one state's write-backs, oldest first. */
export const WriteBackListQuery = Type.Object(
  {
    status: WriteBackStatusSchema,
    limit: Type.Integer({ minimum: 1, maximum: 200, default: 50 }),
  },
  { additionalProperties: false },
);
export type WriteBackListQuery = Static<typeof WriteBackListQuery>;

/** One row of `GET /write-backs`: the request it belongs to and its write-back. */
export const WriteBackListItem = Type.Composite([
  Type.Object({
    consultationId: Type.String({ format: 'uuid' }),
    reference: Type.String(),
    patientName: Type.String(),
    closedAt: Type.String({ format: 'date-time' }),
    /** The patient's identity status: what a summary waiting for a patient match waits for. */
    identityStatus: IdentityStatus,
  }),
  WriteBackView,
]);
export type WriteBackListItem = Static<typeof WriteBackListItem>;

/** `PUT /consultations/:id/nhs-number`: the patient's NHS number, as staff typed it. */
export const NhsNumberBody = Type.Object(
  { nhsNumber: Type.String({ pattern: '^[0-9 ]{10,12}$', description: '10 digits; spaces allowed' }) },
  { additionalProperties: false },
);
export type NhsNumberBody = Static<typeof NhsNumberBody>;

/** The answer to `PUT /consultations/:id/nhs-number`: the number recorded, and the write-back it released (if any). */
export const NhsNumberRecorded = Type.Object({
  nhsNumber: Type.String(),
  writeBack: Nullable(WriteBackView),
});
export type NhsNumberRecorded = Static<typeof NhsNumberRecorded>;
