import { Type, type Static } from '@sinclair/typebox';
import { OneOf } from '../schema';

/**
 * Files already uploaded, by the keys their upload grants gave (`UploadGrant`); a request or a
 * patient's reply carries at most five.
 */
export const UploadedFiles = Type.Array(
  Type.Object(
    { key: Type.String({ pattern: '^uploads/[0-9a-f-]{36}/[0-9a-f-]{36}$' }) },
    { additionalProperties: false },
  ),
  {
    maxItems: 5,
  },
);
export type UploadedFiles = Static<typeof UploadedFiles>;

const PersonName = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });

/** Who the request is about, and how to reach them. */
export const SubmissionPatient = Type.Object(
  {
    givenName: PersonName,
    familyName: PersonName,
    birthDate: Type.String({ format: 'date' }),
    nhsNumber: Type.Optional(Type.String({ pattern: '^[0-9 ]{10,12}$' })),
    phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{7,20}$' })),
    email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
  },
  { additionalProperties: false },
);
export type SubmissionPatient = Static<typeof SubmissionPatient>;

/** The patient themself, or someone on their behalf (a proxy). */
export const SubmittedBy = Type.Union([
  Type.Object({ type: Type.Literal('patient') }, { additionalProperties: false }),
  Type.Object(
    {
      type: Type.Literal('proxy'),
      name: PersonName,
      relationship: Type.String({ minLength: 1, maxLength: 100 }),
    },
    { additionalProperties: false },
  ),
]);
export type SubmittedBy = Static<typeof SubmittedBy>;

export const PreferredContact = OneOf(['phone', 'sms', 'email']);
export type PreferredContact = Static<typeof PreferredContact>;

/** The answers, as a FHIR QuestionnaireResponse (each item is checked against the form by the server). */
export const SubmissionAnswers = Type.Object(
  {
    resourceType: Type.Literal('QuestionnaireResponse'),
    status: Type.Literal('completed'),
    questionnaire: Type.Optional(Type.String({ maxLength: 500 })),
    item: Type.Array(
      Type.Object({ linkId: Type.String({ minLength: 1, maxLength: 100 }) }, { additionalProperties: true }),
      {
        minItems: 1,
        maxItems: 200,
      },
    ),
  },
  { additionalProperties: false },
);
export type SubmissionAnswers = Static<typeof SubmissionAnswers>;

/** `POST /practices/:ods/submissions`: the public form sends a request to the practice. */
export const SubmissionBody = Type.Object(
  {
    /** Made by the form once per request: a retry or a double click sends the same key. */
    idempotencyKey: Type.String({ format: 'uuid' }),
    /** The practice's form (Questionnaire) the answers are to. */
    formId: Type.String({ format: 'uuid' }),
    patient: SubmissionPatient,
    submittedBy: SubmittedBy,
    preferredContact: PreferredContact,
    preferredTimes: Type.Optional(Type.String({ maxLength: 200 })),
    /** Files already uploaded with keys from /practices/:ods/uploads. */
    attachments: Type.Optional(UploadedFiles),
    /** The answers, as a FHIR QuestionnaireResponse. */
    answers: SubmissionAnswers,
    /**
     * The patient saw the advice of an urgent red flag (call 111 or the practice now) and chose to send
     * the request anyway: it arrives marked urgent. Without it, an urgent answer is refused (`urgentRedFlag`).
     */
    urgentSendAnyway: Type.Optional(Type.Boolean()),
    /**
     * The patient signed in with NHS login (`/nhs-login/session`): the name, date of birth and NHS
     * number are taken from NHS login and those in `patient` are ignored. Used once, for this practice.
     */
    nhsLoginSession: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' })),
  },
  { additionalProperties: false },
);
export type SubmissionBody = Static<typeof SubmissionBody>;

/** The answer to a submission: its reference, and whether it was a repeat of one already received. */
export const SubmissionReceipt = Type.Object({ reference: Type.String(), duplicate: Type.Boolean() });
export type SubmissionReceipt = Static<typeof SubmissionReceipt>;
