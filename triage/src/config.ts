import { Type, type Static } from '@sinclair/typebox';
import {
  ConfigError,
  defaultTokenIssuer,
  envName,
  loadConfig,
  LogLevelSetting,
  S3ConfigFields,
} from '@gpc/contracts';
import { parseSigningKeys } from './auth/token-keys';
import { parseCallNodeKeys } from './auth/call-node-keys';
import type { PdsSettings } from './identity/pds-client';
import { Cis2ConfigFields, cis2SettingsFrom } from './cis2/settings';
import { NhsLoginConfigFields, nhsLoginSettingsFrom } from './nhs-login/settings';
import { TrustedProxiesConfigFields, trustedProxiesFrom } from './trusted-proxies';
import { SecretsConfigFields, secretKeyringFrom } from '@gpc/contracts/secrets';
import { MetricsConfigFields } from '@gpc/contracts/metrics';

export const TriageConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3001 }),
    databaseUrl: Type.String({ minLength: 1 }),
    /** Where write-back jobs are queued for the record worker. */
    redisUrl: Type.String({ minLength: 1 }),
    /**
     * Signs every token triage issues (staff access, thread links and sessions, call tokens): a JWK
     * set, as JSON, of Ed25519 private keys, each with a `kid`. The first signs; every one verifies
     * and is published at /.well-known/jwks.json. To rotate, put a new key first, and remove the old
     * one once its tokens have expired (a thread link lives 14 days).
     */
    signingKeys: Type.String({ minLength: 1 }),
    /**
     * The call nodes' public keys, a JWK set as JSON (Ed25519, each with a `kid`): a call node posts
     * its calls' events (call data) with a short token of its own key (SIGNALLING_CALL_EVENTS_KEY).
     * Public halves only. Without it, no call data is recorded.
     */
    callNodeKeys: Type.Optional(Type.String({ minLength: 1 })),
    /** The `iss` of triage's tokens; the call node expects the same (SIGNALLING_TOKEN_ISSUER). */
    tokenIssuer: Type.String({ minLength: 1, default: defaultTokenIssuer }),
    /** How long a video call's links let the patient and guests in. */
    callLinkTtlMinutes: Type.Integer({ minimum: 1, maximum: 24 * 60, default: 60 }),
    /** Where the web pages are served: patients' thread links point there. */
    publicWebUrl: Type.String({ default: 'http://127.0.0.1:5173', pattern: '^https?://' }),
    /** Attachments: an S3 bucket (or S3-compatible server, with its endpoint and path-style URLs). */
    ...S3ConfigFields,
    /**
     * How often the notification sender and the trace worker look in PostgreSQL for owed work whose
     * job Redis lost (a failover without its data, a restart without its append-only file) and queue
     * it again; 0: never. Each job's id is its row's, so one queued twice runs once.
     */
    sweepIntervalMs: Type.Integer({ minimum: 0, default: 30_000 }),
    /**
     * How long owed work must have waited untouched (a notification still queued, a trace past its
     * next attempt) before a sweep takes its job for lost: longer than a job normally waits.
     */
    sweepAfterMs: Type.Integer({ minimum: 1, default: 120_000 }),
    /**
     * A link's send holds a lock this long (renewed while it runs), and the sender checks this often
     * for sends whose holder died (kill -9, a lost machine) to take them up again.
     */
    queueLockDurationMs: Type.Integer({ minimum: 1000, default: 30_000 }),
    queueStalledIntervalMs: Type.Integer({ minimum: 500, default: 30_000 }),
    logLevel: LogLevelSetting,
    /**
     * Development and tests only: practices' GP systems, GOV.UK Notify and SMTP relays may be plain
     * http (SMTP without TLS) on loopback, where the local stand-ins listen. Off: https (TLS) to
     * public addresses only. Private, link-local and metadata addresses are refused either way.
     */
    outboundAllowLoopbackHttp: Type.Boolean({ default: false }),
    /**
     * Places each new call on the least-loaded call node that announces itself in Redis
     * (SIGNALLING_PUBLIC_URL) and answers its node URL. Off by default: the pages do not follow the
     * placement yet, and with one call node (npm start) nothing announces itself to be placed on.
     */
    callPlacement: Type.Boolean({ default: false }),
    /**
     * Tracing patients against PDS (application-restricted): all five, or none (tracing off: requests
     * stay `tracing`, never verified, so none typed into the form is filed).
     */
    pdsBaseUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    pdsTokenUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    pdsApiKey: Type.Optional(Type.String({ minLength: 1 })),
    /** The application's private key for signing client assertions: PKCS#8 PEM, or a JWK as JSON. */
    pdsPrivateKey: Type.Optional(Type.String({ minLength: 1 })),
    /** The `kid` the key is registered under. */
    pdsKid: Type.Optional(Type.String({ minLength: 1 })),
    /** Sign in with NHS login on the form: all five TRIAGE_NHS_LOGIN_*, or none (off). */
    ...NhsLoginConfigFields,
    /** Staff sign-in with NHS CIS2: all five TRIAGE_CIS2_* (and optionally its level), or none (off). */
    ...Cis2ConfigFields,
    /** The proxies in front of triage, whose X-Forwarded-For names the client (see trusted-proxies.ts). */
    ...TrustedProxiesConfigFields,
    /**
     * Encrypt practices' stored credentials: TRIAGE_SECRETS_KEYS (`kid:base64key`, comma-separated,
     * 32-byte keys) and TRIAGE_SECRETS_CURRENT_KID, the same as the record worker's RECORD_SECRETS_*.
     */
    ...SecretsConfigFields,
    /** TRIAGE_METRICS_TOKEN: the bearer token of Prometheus scrapes of `/metrics`; not served without it. */
    ...MetricsConfigFields,
  },
  { additionalProperties: false },
);
export type TriageConfig = Static<typeof TriageConfigSchema>;

const pdsKeys = ['pdsBaseUrl', 'pdsTokenUrl', 'pdsApiKey', 'pdsPrivateKey', 'pdsKid'] as const;

export function loadTriageConfig(env?: Record<string, string | undefined>): TriageConfig {
  const config = loadConfig(TriageConfigSchema, 'TRIAGE', env);
  // half a PDS set-up is a mistake, not "tracing off"
  const given = pdsKeys.filter((key) => config[key] !== undefined);
  if (given.length > 0 && given.length < pdsKeys.length) {
    throw new ConfigError(
      pdsKeys
        .filter((key) => config[key] === undefined)
        .map((key) => `${envName('TRIAGE', key)}: required when any TRIAGE_PDS_* is set`),
    );
  }
  nhsLoginSettingsFrom(config); // half an NHS login set-up, or a key that is not one, stops the boot
  cis2SettingsFrom(config); // and so does half a CIS2 set-up
  try {
    parseSigningKeys(config.signingKeys);
  } catch (error) {
    throw new ConfigError([`${envName('TRIAGE', 'signingKeys')}: ${(error as Error).message}`]);
  }
  if (config.callNodeKeys !== undefined) {
    try {
      parseCallNodeKeys(config.callNodeKeys);
    } catch (error) {
      throw new ConfigError([`${envName('TRIAGE', 'callNodeKeys')}: ${(error as Error).message}`]);
    }
  }
  trustedProxiesFrom(config); // so does a proxy that is not an address or CIDR
  secretKeyringFrom(config, 'TRIAGE'); // a malformed key, or a current kid not among them, stops it too
  return config;
}

/** The PDS settings when tracing is on; undefined when off. */
export function pdsSettings(config: TriageConfig): PdsSettings | undefined {
  const { pdsBaseUrl, pdsTokenUrl, pdsApiKey, pdsPrivateKey, pdsKid } = config;
  if (!pdsBaseUrl || !pdsTokenUrl || !pdsApiKey || !pdsPrivateKey || !pdsKid) return undefined;
  return {
    baseUrl: pdsBaseUrl,
    tokenUrl: pdsTokenUrl,
    apiKey: pdsApiKey,
    privateKey: pdsPrivateKey,
    kid: pdsKid,
  };
}
