import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

export const FhirServerConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8103 }),
    /** Where resources are kept between runs; without it they live in memory only. */
    dataFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type FhirServerConfig = Static<typeof FhirServerConfigSchema>;

/** From FHIR_HOST, FHIR_PORT and FHIR_DATA_FILE. */
export const loadFhirServerConfig = (env?: Record<string, string | undefined>): FhirServerConfig =>
  loadConfig(FhirServerConfigSchema, 'FHIR', env);
