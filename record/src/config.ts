import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

export const RecordConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    /** Health and queue status only; the worker itself needs no listener. */
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3003 }),
    databaseUrl: Type.String({ minLength: 1 }),
    redisUrl: Type.String({ minLength: 1 }),
    logLevel: Type.Union(
      [Type.Literal('debug'), Type.Literal('info'), Type.Literal('warn'), Type.Literal('error')],
      {
        default: 'info',
      },
    ),
  },
  { additionalProperties: false },
);
export type RecordConfig = Static<typeof RecordConfigSchema>;

export const loadRecordConfig = (env?: Record<string, string | undefined>): RecordConfig =>
  loadConfig(RecordConfigSchema, 'RECORD', env);
