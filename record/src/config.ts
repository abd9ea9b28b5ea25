import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { ConfigError, envName, loadConfig, LogLevelSetting, S3ConfigFields } from '@gpc/contracts';
import { SecretsConfigFields, secretKeyringFrom } from '@gpc/contracts/secrets';
import { MetricsConfigFields } from '@gpc/contracts/metrics';

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
    /**
     * The service's own MESH mailbox, for practices that file by GP Connect Send Document: the MESH
     * API's address, the mailbox id and password, and the environment's shared key (all four, or none:
     * Send Document off, and such write-backs wait). The client certificate and key (PEM files) for
     * mutual TLS go together; the CA file is the environment's.
     */
    meshUrl: Type.Optional(Type.String({ pattern: '^https?://[^\\s]+$' })),
    meshMailboxId: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9]{1,20}$' })),
    meshPassword: Type.Optional(Type.String({ minLength: 1 })),
    meshSharedKey: Type.Optional(Type.String({ minLength: 1 })),
    meshClientCertPath: Type.Optional(Type.String({ minLength: 1 })),
    meshClientKeyPath: Type.Optional(Type.String({ minLength: 1 })),
    meshCaPath: Type.Optional(Type.String({ minLength: 1 })),
    /** MESH's chunk size: a larger message is sent in chunks of this many bytes. */
    meshChunkSizeBytes: Type.Integer({ minimum: 1024, default: 75 * 1024 * 1024 }),
    meshTimeoutMs: Milliseconds(30_000),
    /** How often the service's MESH inbox is read for acknowledgements and non-delivery reports. */
    meshPollIntervalMs: Milliseconds(30_000),
    /** No infrastructure acknowledgement this long after MESH took a message: it needs attention. */
    meshInfrastructureAckTimeoutMs: Milliseconds(60 * 60_000),
    /** No business acknowledgement this long after a positive infrastructure one: it needs attention. */
    meshBusinessAckTimeoutMs: Milliseconds(48 * 60 * 60_000),
    /** RECORD_METRICS_TOKEN: the bearer token of Prometheus scrapes of `/metrics`; not served without it. */
    ...MetricsConfigFields,
  },
  { additionalProperties: false },
);
export type RecordConfig = Static<typeof RecordConfigSchema>;

export function loadRecordConfig(env?: Record<string, string | undefined>): RecordConfig {
  const config = loadConfig(RecordConfigSchema, 'RECORD', env);
  secretKeyringFrom(config, 'RECORD'); // a malformed key, or a current kid not among them, stops the boot
  meshSettings(config); // half a mailbox, or a certificate file that cannot be read, stops the boot
  return config;
}

/** The service's MESH mailbox, as `createMeshClient` takes it (less the outbound policy). */
export interface MeshSettings {
  url: string;
  mailboxId: string;
  password: string;
  sharedKey: string;
  tls?: { cert: string; key: string; ca?: string };
  chunkSizeBytes: number;
  timeoutMs: number;
}

const meshRequired = ['meshUrl', 'meshMailboxId', 'meshPassword', 'meshSharedKey'] as const;
const meshFiles = ['meshClientCertPath', 'meshClientKeyPath', 'meshCaPath'] as const;

/**
 * The service's MESH mailbox from the configuration, or undefined when none is set (Send Document
 * off). Throws `ConfigError` naming each key when it is half set, or a certificate file cannot be read.
 */
export function meshSettings(config: RecordConfig): MeshSettings | undefined {
  const name = (key: string) => envName('RECORD', key);
  const set = meshRequired.filter((key) => config[key] !== undefined);
  const files = meshFiles.filter((key) => config[key] !== undefined);
  if (set.length === 0) {
    if (files.length > 0) {
      throw new ConfigError(
        files.map((key) => `${name(key)}: set without a MESH mailbox (RECORD_MESH_URL…)`),
      );
    }
    return undefined;
  }
  const problems = meshRequired
    .filter((key) => config[key] === undefined)
    .map(
      (key) =>
        `${name(key)}: required with ${set.map(name).join(', ')} (the MESH mailbox is all four or none)`,
    );
  if ((config.meshClientCertPath === undefined) !== (config.meshClientKeyPath === undefined)) {
    problems.push(
      `${name('meshClientCertPath')}, ${name('meshClientKeyPath')}: the client certificate and its key go together`,
    );
  }
  const read = (key: (typeof meshFiles)[number]): string | undefined => {
    const path = config[key];
    if (path === undefined) return undefined;
    try {
      return readFileSync(path, 'utf8');
    } catch (error) {
      problems.push(
        `${name(key)}: cannot read ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      );
      return undefined;
    }
  };
  const [cert, key, ca] = meshFiles.map(read);
  if (problems.length > 0) throw new ConfigError(problems);
  return {
    url: config.meshUrl!,
    mailboxId: config.meshMailboxId!,
    password: config.meshPassword!,
    sharedKey: config.meshSharedKey!,
    ...(cert && key ? { tls: { cert, key, ...(ca ? { ca } : {}) } } : {}),
    chunkSizeBytes: config.meshChunkSizeBytes,
    timeoutMs: config.meshTimeoutMs,
  };
}
