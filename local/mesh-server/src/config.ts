import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { ConfigError, loadConfig } from '@gpc/contracts';

export const MeshMailboxSchema = Type.Object(
  {
    mailboxId: Type.String({ pattern: '^[A-Z0-9]{3,20}$' }),
    password: Type.String({ minLength: 1 }),
    name: Type.Optional(Type.String()),
    odsCode: Type.Optional(Type.String()),
    /** The workflows this mailbox is registered to receive; absent: any. */
    workflows: Type.Optional(Type.Array(Type.String({ minLength: 1 }))),
    /**
     * NHS numbers of patients registered at this mailbox's practice: MESH's automated routing
     * (`GPPROVIDER_<NHS number>_<DDMMYYYY>_<SURNAME>`, which real MESH resolves through PDS) sends
     * their messages here.
     */
    gpProviderFor: Type.Optional(Type.Array(Type.String({ pattern: '^\\d{10}$' }))),
  },
  { additionalProperties: false },
);
export type MeshMailbox = Static<typeof MeshMailboxSchema>;

export const MeshServerConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8106 }),
    /** The environment's shared key: the HMAC key of every Authorization header. */
    sharedKey: Type.String({ minLength: 1 }),
    /** A JSON file: the mailboxes, `[{ "mailboxId", "password", "workflows"?, "gpProviderFor"? }]`. */
    mailboxesFile: Type.String({ minLength: 1 }),
    /** Where messages are kept across restarts; in memory only when unset. */
    dataFile: Type.Optional(Type.String({ minLength: 1 })),
    /** https: the server's certificate and key (PEM files); with a CA file, clients must present a certificate it signed. */
    tlsCertFile: Type.Optional(Type.String({ minLength: 1 })),
    tlsKeyFile: Type.Optional(Type.String({ minLength: 1 })),
    tlsCaFile: Type.Optional(Type.String({ minLength: 1 })),
    /** How far an Authorization header's timestamp may be from the server's clock. */
    maxClockSkewMs: Type.Integer({ minimum: 0, default: 5 * 60_000 }),
  },
  { additionalProperties: false },
);
export type MeshServerConfig = Static<typeof MeshServerConfigSchema>;

/** From MESH_HOST, MESH_PORT, MESH_SHARED_KEY, MESH_MAILBOXES_FILE, MESH_DATA_FILE, MESH_TLS_*_FILE, MESH_MAX_CLOCK_SKEW_MS. */
export const loadMeshServerConfig = (env?: Record<string, string | undefined>): MeshServerConfig =>
  loadConfig(MeshServerConfigSchema, 'MESH', env);

/** The mailboxes file, checked. */
export function readMailboxesFile(file: string): MeshMailbox[] {
  let parsed: unknown;
  try {
    parsed = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigError([`MESH_MAILBOXES_FILE: cannot read ${file}: ${(error as Error).message}`]);
  }
  const schema = Type.Array(MeshMailboxSchema, { minItems: 1 });
  if (!Value.Check(schema, parsed)) {
    const first = [...Value.Errors(schema, parsed)][0];
    throw new ConfigError([`MESH_MAILBOXES_FILE: ${first?.path ?? ''} ${first?.message ?? 'invalid'}`]);
  }
  return parsed;
}
