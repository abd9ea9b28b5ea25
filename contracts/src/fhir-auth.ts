import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** How the service authenticates to a practice's FHIR endpoint (stored per practice; set by its admins). */
export const FhirAuthSchema = Type.Union([
  Type.Object({ type: Type.Literal('none') }, { additionalProperties: false }),
  Type.Object(
    { type: Type.Literal('bearer'), token: Type.String({ minLength: 1 }) },
    { additionalProperties: false },
  ),
  Type.Object(
    {
      type: Type.Literal('client_credentials'),
      tokenUrl: Type.String({ pattern: '^https?://' }),
      clientId: Type.String({ minLength: 1 }),
      clientSecret: Type.String({ minLength: 1 }),
      scope: Type.Optional(Type.String()),
    },
    { additionalProperties: false },
  ),
]);
export type FhirAuth = Static<typeof FhirAuthSchema>;

export const parseFhirAuth = (value: unknown): FhirAuth | undefined =>
  Value.Check(FhirAuthSchema, value) ? value : undefined;
