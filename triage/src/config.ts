import { Type, type Static } from '@sinclair/typebox';
import { loadConfig, LogLevelSetting, S3ConfigFields } from '@gpc/contracts';

export const TriageConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
    databaseUrl: Type.String({ minLength: 1 }),
    /** Where write-back jobs are queued for the record worker. */
    redisUrl: Type.String({ minLength: 1 }),
    /** Signs staff access tokens and patients' link tokens. */
    jwtSecret: Type.String({ minLength: 32 }),
    /** Where the web pages are served: patients' thread links point there. */
    publicWebUrl: Type.String({ default: 'http://127.0.0.1:5173', pattern: '^https?://' }),
    /** Attachments: an S3 bucket (or S3-compatible server, with its endpoint and path-style URLs). */
    ...S3ConfigFields,
    logLevel: LogLevelSetting,
  },
  { additionalProperties: false },
);
export type TriageConfig = Static<typeof TriageConfigSchema>;

export const loadTriageConfig = (env?: Record<string, string | undefined>): TriageConfig =>
  loadConfig(TriageConfigSchema, 'TRIAGE', env);
