import { Type, type Static } from '@sinclair/typebox';

/** `:ods` path parameters: a practice's ODS code, in either case. */
export const OdsParams = Type.Object({ ods: Type.String({ pattern: '^[A-Za-z0-9]{3,10}$' }) });
export type OdsParams = Static<typeof OdsParams>;

/** `/practices/:ods/forms/:formId` path parameters. */
export const FormParams = Type.Object({
  ods: OdsParams.properties.ods,
  formId: Type.String({ format: 'uuid' }),
});
export type FormParams = Static<typeof FormParams>;

/** One of a practice's active forms, as the public form lists it. */
export const PracticeForm = Type.Object({
  id: Type.String(),
  slug: Type.String(),
  kind: Type.String(),
  title: Type.String(),
});
export type PracticeForm = Static<typeof PracticeForm>;

/**
 * Whether the form takes requests now, and what the patient is told (`message`, ready to show):
 * - `open`: in hours (in England, core hours, when it is always open); `message` says when to expect
 *   a reply, `replyBy` is that date (the practice's calendar date); `busy` when past the day's
 *   capacity (the reply comes the next working day).
 * - `open-out-of-hours`: outside hours, by the practice's choice; `message` says when it will be read.
 * - `paused`: an exceptional pause until `until`; 111 advice. The form cannot be started.
 * - `closed`: outside hours (or, outside England, past the day's limit); 111 advice and when it
 *   opens (`opensAt`, null when not within four weeks). The form cannot be started.
 */
export const Availability = Type.Union([
  Type.Object({
    state: Type.Literal('open'),
    coreHours: Type.Boolean(),
    busy: Type.Boolean(),
    message: Type.String(),
    replyBy: Type.String({ format: 'date' }),
  }),
  Type.Object({
    state: Type.Literal('open-out-of-hours'),
    message: Type.String(),
    replyBy: Type.String({ format: 'date' }),
  }),
  Type.Object({
    state: Type.Literal('paused'),
    message: Type.String(),
    until: Type.String({ format: 'date-time' }),
  }),
  Type.Object({
    state: Type.Literal('closed'),
    message: Type.String(),
    opensAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  }),
]);
export type Availability = Static<typeof Availability>;

/** `GET /practices/:ods`: what the public form needs before the patient types anything. */
export const PracticeInfo = Type.Object({
  odsCode: Type.String(),
  name: Type.String(),
  /** Whether the form takes requests now (`availability.state` is `open` or `open-out-of-hours`). */
  openNow: Type.Boolean(),
  availability: Availability,
  forms: Type.Array(PracticeForm),
});
export type PracticeInfo = Static<typeof PracticeInfo>;

/**
 * `GET /practices/:ods/embedding` (public): the practice's own website origins, where the widget may
 * open its form. The web server puts them in the form page's `frame-ancestors`; the form posts to and
 * accepts messages from them only.
 */
export const PracticeEmbedding = Type.Object({ websiteOrigins: Type.Array(Type.String()) });
export type PracticeEmbedding = Static<typeof PracticeEmbedding>;

/** A FHIR Questionnaire: its shape is FHIR's, checked when the practice saves it. */
export const QuestionnaireBody = Type.Object(
  { resourceType: Type.Literal('Questionnaire') },
  { additionalProperties: true },
);
export type QuestionnaireBody = Static<typeof QuestionnaireBody>;

/** `POST /practices/:ods/red-flag-events`: which question stopped the form (no patient details). */
export const RedFlagEvent = Type.Object(
  { formId: Type.String({ format: 'uuid' }), linkId: Type.String({ minLength: 1, maxLength: 100 }) },
  { additionalProperties: false },
);
export type RedFlagEvent = Static<typeof RedFlagEvent>;
