import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

export const S3ServerConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 4569 }),
    directory: Type.String({ minLength: 1 }),
    /** Comma-separated bucket names. */
    buckets: Type.String({ default: 'gpc-attachments', pattern: '^[a-z0-9.-]{3,63}(,[a-z0-9.-]{3,63})*$' }),
  },
  { additionalProperties: false },
);
export type S3ServerConfig = Static<typeof S3ServerConfigSchema>;

export const loadS3ServerConfig = (env?: Record<string, string | undefined>): S3ServerConfig =>
  loadConfig(S3ServerConfigSchema, 'S3', env);
