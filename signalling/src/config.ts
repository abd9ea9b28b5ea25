import { Type, type Static } from '@sinclair/typebox';
import {
  callNodeIdPattern,
  ConfigError,
  defaultTokenIssuer,
  envName,
  loadConfig,
  LogLevelSetting,
} from '@gpc/contracts';
import type { JWK } from 'jose';
import { MetricsConfigFields } from '@gpc/contracts/metrics';
import { parsePublicJwks, type TokenKeySource } from './auth/tokens';
import type { TurnSettings } from './calls/turn-credentials';

export const SignallingConfigSchema = Type.Object(
  {
    host: Type.String({ default: '127.0.0.1' }),
    port: Type.Integer({ minimum: 0, maximum: 65535, default: 3002 }),
    /**
     * Triage's public keys, which verify the call tokens it signs: its JWKS URL (e.g.
     * http://triage:3001/.well-known/jwks.json), or the public set itself as JSON (SIGNALLING_JWKS,
     * for deployments without a network path to triage). One of the two; never a private key.
     */
    jwksUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    jwks: Type.Optional(Type.String({ minLength: 1 })),
    /** How long fetched keys are kept before asking triage again (an unknown kid asks at once). */
    jwksCacheSeconds: Type.Integer({ minimum: 1, maximum: 24 * 3600, default: 300 }),
    /** The `iss` triage names in its tokens (TRIAGE_TOKEN_ISSUER). */
    tokenIssuer: Type.String({ minLength: 1, default: defaultTokenIssuer }),
    redisUrl: Type.String({ minLength: 1 }),
    /** mediasoup workers in this process: one per core is the usual choice. */
    mediaWorkers: Type.Integer({ minimum: 1, maximum: 64, default: 1 }),
    /** First WebRtcServer port; worker n listens on rtcPort + n (UDP and TCP). */
    rtcPort: Type.Integer({ minimum: 1024, maximum: 65535, default: 40000 }),
    rtcListenIp: Type.String({ default: '127.0.0.1' }),
    /** The address browsers are told to send media to (the public IP behind NAT). */
    rtcAnnouncedAddress: Type.Optional(Type.String({ minLength: 1 })),
    /** A call nobody is connected to for this long ends, and its links with it (fractions for tests). */
    callIdleMinutes: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 60, default: 30 }),
    /**
     * A participant whose connection goes silent (socket.io notices within 8 s) keeps their seat,
     * admission and media this long, shown to the others as reconnecting; 0 frees them at once.
     */
    reconnectGraceSeconds: Type.Number({ minimum: 0, maximum: 3600, default: 120 }),
    /**
     * The TURN relay's URLs, comma-separated, handed to every participant with time-limited
     * credentials: in production UDP and TCP on 3478 and TLS on 443, e.g.
     * `turn:turn.example:3478?transport=udp,turn:turn.example:3478?transport=tcp,turns:turn.example:443?transport=tcp`.
     * Given with TURN_SECRET, or neither (no relay: patients behind strict networks get no media).
     */
    turnUrls: Type.Optional(Type.String({ minLength: 1 })),
    /** The secret shared with the relay (coturn's `static-auth-secret`); checked here, never echoed. */
    turnSecret: Type.Optional(Type.String()),
    /** How long a participant's TURN credentials last; a rejoin gets fresh ones. */
    turnCredentialMinutes: Type.Integer({ minimum: 1, maximum: 24 * 60, default: 60 }),
    /**
     * Call data: triage's base URL (e.g. http://triage:3001), where this node posts its calls'
     * events (joins, leaves, quality), and this node's own private Ed25519 JWK (JSON, with a `kid`)
     * it signs those posts with; triage holds the public half (TRIAGE_CALL_NODE_KEYS). Both, or
     * neither (no call data recorded).
     */
    callEventsUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    callEventsKey: Type.Optional(Type.String({ minLength: 1 })),
    /**
     * Names this node in its call-event tokens and its presence (the host name when not given); a
     * path segment of its public URL `/call-node/<id>`, so letters, digits, `.`, `_` and `-` only.
     */
    nodeId: Type.Optional(Type.String({ pattern: callNodeIdPattern })),
    /**
     * SIGNALLING_PUBLIC_URL: this node's signalling URL as browsers reach it, on one site
     * `https://<site>/call-node/<SIGNALLING_NODE_ID>` (the web server routes it here). When set, the
     * node announces it and its load in Redis and triage places calls on it
     * (contracts/src/call/placement.ts); when not, no call is placed here.
     */
    publicUrl: Type.Optional(Type.String({ pattern: '^https?://' })),
    /**
     * SIGNALLING_INTERNAL_URL: where the site's web server reaches this node's signalling
     * (`http://<pod IP>:<port>`), announced with the public URL; by default `http://<host>:<port>`
     * (127.0.0.1 when listening on every address).
     */
    internalUrl: Type.Optional(Type.String({ pattern: '^https?://[^/\\s?#]+/?$' })),
    logLevel: LogLevelSetting,
    /** SIGNALLING_METRICS_TOKEN: the bearer token of Prometheus scrapes of `/metrics`; not served without it. */
    ...MetricsConfigFields,
  },
  { additionalProperties: false },
);
export type SignallingConfig = Static<typeof SignallingConfigSchema>;

export function loadSignallingConfig(env?: Record<string, string | undefined>): SignallingConfig {
  const config = loadConfig(SignallingConfigSchema, 'SIGNALLING', env);
  tokenKeySource(config); // no key source, both, or a set that is not a public one, stops the boot
  callEventsSettings(config); // half a call-data set-up, or a key that is not a private Ed25519 one, too
  turnSettings(config); // URLs without a secret, or a malformed URL, stops it too
  return config;
}

// turn: or turns:, a host, an optional port, and at most the transport parameter
const turnUrl = /^turns?:(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+)(:\d{1,5})?(\?transport=(udp|tcp))?$/;
const minTurnSecretLength = 16;

/** Where the site's web server reaches this node's signalling: SIGNALLING_INTERNAL_URL, or its own host and port. */
export function internalUrlOf(config: SignallingConfig, port = config.port): string {
  if (config.internalUrl) return config.internalUrl.replace(/\/$/, '');
  const host = ['0.0.0.0', '::', ''].includes(config.host) ? '127.0.0.1' : config.host;
  return `http://${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The TURN relay participants get credentials for, or undefined when none is configured. */
export function turnSettings(config: SignallingConfig): TurnSettings | undefined {
  const urlsName = envName('SIGNALLING', 'turnUrls');
  const secretName = envName('SIGNALLING', 'turnSecret');
  if (config.turnUrls === undefined && config.turnSecret === undefined) return undefined;
  const problems: string[] = [];
  const urls = (config.turnUrls ?? '').split(',').map((url) => url.trim());
  if (config.turnUrls === undefined) problems.push(`${urlsName}: required with ${secretName}`);
  else
    for (const url of urls.filter((each) => !turnUrl.test(each)))
      problems.push(`${urlsName}: "${url}" is not a turn: or turns: URL (turn:host:3478?transport=udp)`);
  // the secret's own value never appears in a message: it would reach logs
  const secret = config.turnSecret;
  if (secret === undefined) problems.push(`${secretName}: required with ${urlsName}`);
  else if (secret.length < minTurnSecretLength)
    problems.push(`${secretName}: must be at least ${minTurnSecretLength} characters`);
  if (problems.length > 0 || secret === undefined) throw new ConfigError(problems);
  return { urls, secret, credentialSeconds: config.turnCredentialMinutes * 60 };
}

/** Where the call node gets triage's public keys from. */
export function tokenKeySource(config: SignallingConfig): TokenKeySource {
  const jwksUrl = envName('SIGNALLING', 'jwksUrl');
  const jwks = envName('SIGNALLING', 'jwks');
  if (config.jwksUrl && config.jwks) throw new ConfigError([`${jwksUrl} and ${jwks}: give one, not both`]);
  if (config.jwksUrl) return { jwksUrl: config.jwksUrl, cacheSeconds: config.jwksCacheSeconds };
  if (!config.jwks) throw new ConfigError([`${jwksUrl}: required (or ${jwks}, triage's public keys)`]);
  try {
    return { jwks: parsePublicJwks(config.jwks) };
  } catch (error) {
    throw new ConfigError([`${jwks}: ${(error as Error).message}`]);
  }
}

/** Where and how this node posts call events, or undefined when call data is off. */
export function callEventsSettings(config: SignallingConfig): { triageUrl: string; key: JWK } | undefined {
  const urlName = envName('SIGNALLING', 'callEventsUrl');
  const keyName = envName('SIGNALLING', 'callEventsKey');
  if (config.callEventsUrl === undefined && config.callEventsKey === undefined) return undefined;
  if (config.callEventsUrl === undefined) throw new ConfigError([`${urlName}: required with ${keyName}`]);
  if (config.callEventsKey === undefined) throw new ConfigError([`${keyName}: required with ${urlName}`]);
  let key: JWK;
  try {
    key = JSON.parse(config.callEventsKey) as JWK;
  } catch {
    throw new ConfigError([`${keyName}: not JSON (a private Ed25519 JWK is expected)`]);
  }
  if (key.kty !== 'OKP' || key.crv !== 'Ed25519' || typeof key.d !== 'string' || typeof key.kid !== 'string')
    throw new ConfigError([`${keyName}: a private Ed25519 JWK with a kid is expected`]);
  return { triageUrl: config.callEventsUrl, key };
}
