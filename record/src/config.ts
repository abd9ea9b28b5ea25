import { Type, type Static } from '@sinclair/typebox';
import { loadConfig, LogLevelSetting, S3ConfigFields } from '@gpc/contracts';
import { SecretsConfigFields, secretKeyringFrom } from '@gpc/contracts/secrets';

const Milliseconds = (defaultValue: number) => Type.Integer({ minimum: 1, default: defaultValue });

export const RecordConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    /** Health and queue status only; the worker itself needs no listener. */
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3003 }),
    databaseUrl: Type.String({ minLength: 1 }),
    redisUrl: Type.String({ minLength: 1 }),
    /** Must match the producers' (triage) prefix; tests and benchmarks use their own. */
    queuePrefix: Type.String({ minLength: 1, default: 'gpc' }),
    /** Write-backs in flight at once in this process. */
    concurrency: Type.Integer({ minimum: 1, maximum: 200, default: 10 }),
    /** Attempts at the GP system before a write-back is failed for a person to look at. */
    maxAttempts: Type.Integer({ minimum: 1, maximum: 500, default: 20 }),
    retryBaseDelayMs: Milliseconds(5_000),
    retryMaxDelayMs: Milliseconds(15 * 60_000),
    /** A GP system that has not answered by then is treated as down for this attempt. */
    fhirTimeoutMs: Milliseconds(20_000),
    /**
     * Write-backs of one practice in flight at once in this process: a slow GP system holds at most
     * this many of the `concurrency` slots, and the other practices' write-backs use the rest.
     */
    practiceConcurrency: Type.Integer({ minimum: 1, maximum: 200, default: 3 }),
    /** Write-backs started per practice per window, so a backlog never floods one GP system. */
    practiceRateMax: Type.Integer({ minimum: 1, default: 5 }),
    practiceRateWindowMs: Milliseconds(1_000),
    lockDurationMs: Milliseconds(30_000),
    stalledIntervalMs: Milliseconds(30_000),
    /** How often pending write-backs are checked for a job Redis lost. */
    sweepIntervalMs: Milliseconds(30_000),
    sweepAfterMs: Milliseconds(120_000),
    /** Where patients' attachments are kept: they are filed as DocumentReferences. */
    ...S3ConfigFields,
    logLevel: LogLevelSetting,
    /**
     * Development and tests only: practices' GP systems and token endpoints may be plain http on
     * loopback, where the local stand-ins listen. Off: https to public addresses only. Private,
     * link-local and metadata addresses are refused either way.
     */
    outboundAllowLoopbackHttp: Type.Boolean({ default: false }),
    /**
     * Decrypt practices' stored GP-system credentials: RECORD_SECRETS_KEYS (`kid:base64key`,
     * comma-separated, 32-byte keys) and RECORD_SECRETS_CURRENT_KID, the same as triage's.
     */
    ...SecretsConfigFields,
  },
  { additionalProperties: false },
);
export type RecordConfig = Static<typeof RecordConfigSchema>;

export function loadRecordConfig(env?: Record<string, string | undefined>): RecordConfig {
  const config = loadConfig(RecordConfigSchema, 'RECORD', env);
  secretKeyringFrom(config, 'RECORD'); // a malformed key, or a current kid not among them, stops the boot
  return config;
}
