import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

export const PdsServerConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8104 }),
    /** The API key of the one application registered (its assertions' `iss` and `sub`). */
    apiKey: Type.String({ minLength: 1 }),
    /** A JSON file holding the application's public keys as a JWKS (`{"keys": [...]}`). */
    jwksFile: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type PdsServerConfig = Static<typeof PdsServerConfigSchema>;

/** From PDS_HOST, PDS_PORT, PDS_API_KEY and PDS_JWKS_FILE. */
export const loadPdsServerConfig = (env?: Record<string, string | undefined>): PdsServerConfig =>
  loadConfig(PdsServerConfigSchema, 'PDS', env);
