import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

const nhsNumbers = Type.String({ pattern: '^(\\d{10}(,\\d{10})*)?$', default: '' });

export const GpInboxConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 1, maximum: 65535, default: 8107 }),
    /** The MESH it polls: the local stand-in in development. */
    meshUrl: Type.String({ minLength: 1 }),
    mailboxId: Type.String({ minLength: 1 }),
    password: Type.String({ minLength: 1 }),
    sharedKey: Type.String({ minLength: 1 }),
    /** Development only: MESH over plain http on loopback (the local stand-in). */
    outboundAllowLoopbackHttp: Type.Boolean({ default: false }),
    odsCode: Type.String({ pattern: '^[A-Z0-9]{3,10}$' }),
    /** NHS numbers registered at this practice, comma-separated. */
    registeredPatients: nhsNumbers,
    /** Of those, recently deceased (answered 30004). */
    deceasedPatients: nhsNumbers,
    pollIntervalMs: Type.Integer({ minimum: 100, default: 2000 }),
    dataFile: Type.Optional(Type.String({ minLength: 1 })),
  },
  { additionalProperties: false },
);
export type GpInboxConfig = Static<typeof GpInboxConfigSchema>;

/** From GP_INBOX_* (GP_INBOX_MESH_URL, _MAILBOX_ID, _PASSWORD, _SHARED_KEY, _ODS_CODE, _REGISTERED_PATIENTS...). */
export const loadGpInboxConfig = (env?: Record<string, string | undefined>): GpInboxConfig =>
  loadConfig(GpInboxConfigSchema, 'GP_INBOX', env);

export const nhsNumberList = (value: string): string[] => value.split(',').filter(Boolean);
