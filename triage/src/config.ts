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
