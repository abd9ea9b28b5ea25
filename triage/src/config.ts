import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

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
    s3Bucket: Type.String({ minLength: 3 }),
    s3Region: Type.String({ default: 'eu-west-2' }),
    s3Endpoint: Type.Optional(Type.String({ pattern: '^https?://' })),
    s3AccessKeyId: Type.String({ minLength: 1 }),
    s3SecretAccessKey: Type.String({ minLength: 1 }),
    s3ForcePathStyle: Type.Boolean({ default: false }),
    logLevel: Type.Union(
      [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
      {
        default: 'info',
      },
    ),
  },
  { additionalProperties: false },
);
export type TriageConfig = Static<typeof TriageConfigSchema>;

export const loadTriageConfig = (env?: Record<string, string | undefined>): TriageConfig =>
  loadConfig(TriageConfigSchema, 'TRIAGE', env);
