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

/** `GET /practices/:ods`: what the public form needs before the patient types anything. */
export const PracticeInfo = Type.Object({
  odsCode: Type.String(),
  name: Type.String(),
  openNow: Type.Boolean(),
  forms: Type.Array(PracticeForm),
});
export type PracticeInfo = Static<typeof PracticeInfo>;

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
