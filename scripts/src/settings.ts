import { homedir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Type, type Static } from '@sinclair/typebox';
import { loadConfig } from '@gpc/contracts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Local set-up settings, from `GPC_*` environment variables; every default suits a developer's machine. */
export const LocalSettingsSchema = Type.Object(
  {
    databaseUrl: Type.String({ default: 'postgres://postgres:postgres@127.0.0.1:5432/gpconsult' }),
    testDatabaseUrl: Type.String({ default: 'postgres://postgres:postgres@127.0.0.1:5432/postgres' }),
    redisUrl: Type.String({ default: 'redis://127.0.0.1:6379' }),
    webPort: Type.Integer({ default: 5173 }),
    triagePort: Type.Integer({ default: 3001 }),
    signallingPort: Type.Integer({ default: 3002 }),
    recordPort: Type.Integer({ default: 3003 }),
    fhirPort: Type.Integer({ default: 8103 }),
    s3Port: Type.Integer({ default: 4569 }),
    pdsPort: Type.Integer({ default: 8104 }),
    /** The local OIDC provider (NHS login at /nhs-login). */
    oidcPort: Type.Integer({ default: 8105 }),
    /** The local MESH stand-in, and the simulated GP system polling its mailbox there. */
    meshPort: Type.Integer({ default: 8106 }),
    gpInboxPort: Type.Integer({ default: 8107 }),
    mailSmtpPort: Type.Integer({ default: 1025 }),
    mailWebPort: Type.Integer({ default: 1080 }),
    rtcPort: Type.Integer({
      default: 40000,
      description: 'first WebRtcServer port; one per mediasoup worker',
    }),
    mediaWorkers: Type.Integer({ default: 1, minimum: 1 }),
    /** The local TURN relay (coturn): UDP and TCP, TLS, and the UDP ports its relayed allocations use. */
    turnPort: Type.Integer({ default: 3478 }),
    turnTlsPort: Type.Integer({ default: 5349 }),
    turnRelayMinPort: Type.Integer({ default: 49160 }),
    turnRelayMaxPort: Type.Integer({ default: 49200 }),
    announcedAddress: Type.String({ default: '127.0.0.1' }),
    cacheDir: Type.String({
      default: path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'gp-consult'),
    }),
    stateDir: Type.String({ default: path.join(repoRoot, '.state') }),
    chromiumPath: Type.String({ default: '/usr/bin/chromium' }),
  },
  { additionalProperties: false },
);
export type LocalSettings = Static<typeof LocalSettingsSchema>;

export function loadLocalSettings(env: Record<string, string | undefined> = process.env): LocalSettings {
  return loadConfig(LocalSettingsSchema, 'GPC', env);
}

export const log = (line: string): void => {
  process.stdout.write(`[setup] ${line}\n`);
};
