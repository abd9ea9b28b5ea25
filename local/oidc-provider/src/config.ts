import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

export const OidcProviderConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8105 }),
    /** Where browsers and services reach it, when not `http://host:port` (e.g. behind a proxy). */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /**
     * A JSON file naming each issuer's registered clients: `{"nhs-login": [{clientId, redirectUris,
     * jwks: {keys: [public JWK]}}], "cis2": [...]}`.
     */
    clientsFile: Type.String({ minLength: 1 }),
  },
  { additionalProperties: false },
);
export type OidcProviderConfig = Static<typeof OidcProviderConfigSchema>;

/** From OIDC_HOST, OIDC_PORT, OIDC_PUBLIC_URL and OIDC_CLIENTS_FILE. */
export const loadOidcProviderConfig = (env?: Record<string, string | undefined>): OidcProviderConfig =>
  loadConfig(OidcProviderConfigSchema, 'OIDC', env);

/** The clients file: each issuer's registered partner services. */
const ClientRegistrations = Type.Array(
  Type.Object(
    {
      clientId: Type.String({ minLength: 1 }),
      clientName: Type.Optional(Type.String()),
      redirectUris: Type.Array(Type.String({ pattern: '^https?://' }), { minItems: 1 }),
      jwks: Type.Object({ keys: Type.Array(Type.Object({ kty: Type.String() }), { minItems: 1 }) }),
    },
    { additionalProperties: false },
  ),
);

export const ClientsFileSchema = Type.Object(
  {
    'nhs-login': ClientRegistrations,
    /** NHS CIS2's relying parties (staff sign-in); none when absent. */
    cis2: Type.Optional(ClientRegistrations),
  },
  { additionalProperties: true },
);
export type ClientsFile = Static<typeof ClientsFileSchema>;
