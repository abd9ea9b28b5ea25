/**
 * One call for a triage test's world: the app on a fresh migrated database, two practices with
 * staff of every role, signed-in clients, and whatever else a test asks for; all taken down by the
 * test runner. After medplum's `createTestProject` and fastify/demo's `test/helper.ts`.
 */
import { randomUUID, type JsonWebKey } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import type { FastifyBaseLogger, FastifyInstance, InjectOptions, LightMyRequestResponse } from 'fastify';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import type { ServerOptions } from 'socket.io';
import { defaultTokenIssuer, StaffLive, type StaffRole } from '@gpc/contracts';
import type { RunningLocalPds } from '@gpc/local-pds-server';
import type { RunningLocalS3 } from '@gpc/local-s3-server';
import { createWriteBackQueue, type WriteBackQueue } from '@gpc/record';
import type { OutboundPolicy } from '@gpc/outbound';
import {
  AttachmentStore,
  buildTriageApp,
  CallNodeKeys,
  createNotificationQueue,
  createPdsClient,
  createTraceQueue,
  generateSigningKey,
  redisRevocationLink,
  signStaffToken,
  TokenKeys,
  type NotificationQueueOptions,
  type PatientTraceDeps,
  type TraceQueue,
  type TriageAppDeps,
} from '@gpc/triage';
import { startTestDatabase, type TestDatabase } from './database';
import { startNhsLogin, type NhsLoginOption, type TestNhsLogin } from './nhs-login';
import { startCis2, type Cis2Option, type TestCis2 } from './cis2';
import { cleanupStack, type TestLifetime } from './lifetime';
import { localOutbound } from './outbound';
import { seedPractice, staffClaims, type SeededPractice, type SeededStaff } from './practices';
import { testSecretsKeyring } from './secrets';
import type { SecretKeyring } from '@gpc/contracts/secrets';
import { testRedisUrl } from './services';
import { noWriteBacks, writeBacksTo } from './write-back';

export interface StartTriageOptions {
  /** Places calls on the call nodes announced on this Redis (e.g. one with a key prefix of the test's own). */
  callPlacement?: Redis;
  /** Serves `/metrics` to scrapes bearing this token. */
  metricsToken?: string;
  /** The clock for opening hours and capacity. */
  now?: () => Date;
  publicWebUrl?: string;
  logger?: FastifyBaseLogger;
  rateLimitAllowList?: string[];
  /**
   * Where practice-configured places may be: plain http to loopback by default, where the local
   * stand-ins listen; `strictOutbound` for production's refusals.
   */
  outbound?: OutboundPolicy;
  /** The proxies whose X-Forwarded-For names the client (`app.inject({ remoteAddress })` arrives from one). */
  trustedProxies?: string[];
  /** Staff sign-in's per-account back-off (e.g. a short cap, to wait it out). */
  signInBackoff?: TriageAppDeps['signInBackoff'];
  /**
   * The Ed25519 private JWKs triage signs its tokens with (the first signs; all verify), e.g. to
   * test a rotation; a fresh key of this run's own otherwise. Call nodes verify with `${url}/.well-known/jwks.json`.
   */
  signingKeys?: JsonWebKey[];
  /** How long a video call's links last (seconds). */
  callLinkTtlSeconds?: number;
  /** Takes files through a local S3 server with an `attachments` bucket. */
  attachments?: true;
  /**
   * Live updates to dashboards, with these socket.io options, or `'redis'` for the Redis adapter on
   * the test Redis as production runs it (what the record worker announces through); the app listens.
   */
  live?: Partial<ServerOptions> | 'redis';
  /**
   * The Redis `live: 'redis'` uses, and staff revocations travel on (with `live: 'redis'`, triage
   * hears and announces them there): a test's own (e.g. one it stops), the test Redis otherwise.
   */
  redisUrl?: string;
  /** Listens on a free port of 127.0.0.1 (`url`), e.g. for a browser. */
  listen?: true;
  /**
   * Sends links to patients: the notification queue (on the test Redis, a prefix of its own unless
   * given) with these options, and the sender's settings.
   */
  notifications?: NotificationQueueOptions & Omit<NonNullable<TriageAppDeps['notifications']>, 'queue'>;
  /** Queues write-backs on bull (on the test Redis, a prefix of its own unless given); dropped otherwise. */
  writeBackQueue?: { prefix?: string };
  /**
   * Traces patients against the local PDS stand-in (`true`: one of its own on a free port), on a
   * trace queue with its own prefix on the test Redis. Without it tracing is off.
   */
  pds?: true | PdsOption;
  /**
   * Sign in with NHS login: the local OIDC provider (`/nhs-login`) on a free port, with this triage
   * registered as its client. Practices still choose to offer it (`nhsLoginOffered`).
   */
  nhsLogin?: true | NhsLoginOption;
  /**
   * Staff sign-in with NHS CIS2: the local OIDC provider (`/cis2`) on a free port, with this triage
   * registered as its client. Practices still choose to offer it (`practice.cis2_sign_in`).
   */
  cis2?: true | Cis2Option;
  /** The keys practices' credentials are encrypted under; the test process's own (`testSecretsKeyring`) otherwise. */
  secrets?: SecretKeyring;
}

/** The PDS a test's triage traces against, and how the trace worker runs. */
export interface PdsOption {
  /** A stand-in the test started itself (e.g. to stop it); one of the fixture's own otherwise. */
  server?: RunningLocalPds;
  /** Where triage reaches PDS's FHIR base, e.g. through a fault proxy; the stand-in's own otherwise. */
  baseUrl?: string;
  /** The first retry of an unanswered trace. Default 200 ms. */
  retryBaseDelayMs?: number;
  /** How often the sweep queues owed traces whose job was lost. Default 0: never. */
  sweepIntervalMs?: number;
  sweepAfterMs?: number;
  /** The trace queue's prefix; one of its own otherwise. */
  prefix?: string;
}

/** A member of staff signed in: their access token, and requests that carry it. */
export interface StaffClient {
  staff: SeededStaff;
  token: string;
  headers: { authorization: string };
  inject: (options: InjectOptions) => Promise<LightMyRequestResponse>;
}

export interface TestTriage {
  app: FastifyInstance;
  db: TestDatabase;
  /** A81001 and B82002, each with an admin, a clinician and a receptionist. */
  practiceA: SeededPractice;
  practiceB: SeededPractice;
  /** A client signed in as that practice's member of staff of that role. */
  as: (practice: SeededPractice, role: StaffRole) => StaffClient;
  /** The id of a practice's form, as the public practice endpoint lists it. */
  formId: (slug: string, practice?: SeededPractice) => Promise<string>;
  /** Where the app listens, with `listen` or `live`; empty otherwise. */
  url: string;
  /** With `attachments`. */
  attachments: AttachmentStore | undefined;
  /** With `writeBackQueue`. */
  writeBackQueue: WriteBackQueue | undefined;
  /** With `pds`: the stand-in triage traces against, and the trace queue. */
  pds: RunningLocalPds | undefined;
  traceQueue: TraceQueue | undefined;
  /** With `nhsLogin`: the provider and what triage is configured with. */
  nhsLogin: TestNhsLogin | undefined;
  /** With `cis2`: the provider and what triage is configured with. */
  cis2: TestCis2 | undefined;
  /** Hands `t` a clean-up to run before triage's own (e.g. a worker using its database). */
  after: (fn: () => unknown) => void;
  /**
   * The private key a call node of this test posts call events with (the call node fixture's
   * `callEvents`); triage is given its public half, as TRIAGE_CALL_NODE_KEYS.
   */
  callNodeKey: JsonWebKey;
}

/**
 * A client signed in to `app` as the practice's member of staff of that role: an access token with
 * the claims sign-in gives, signed by the app (sign-in itself is rate-limited, and tested on its own).
 */
export function signedIn(app: FastifyInstance, practice: SeededPractice, role: StaffRole): StaffClient {
  const staff = practice.staff[role];
  const token = signStaffToken(app.tokens, staffClaims(practice, role));
  const headers = { authorization: `Bearer ${token}` };
  return {
    staff,
    token,
    headers,
    inject: (request) => app.inject({ ...request, headers: { ...request.headers, ...headers } }),
  };
}

/** The local S3 server and a store on its `attachments` bucket, as triage is configured with. */
async function startAttachments(t: TestLifetime): Promise<AttachmentStore> {
  // loaded here: most test files never need it
  const { startLocalS3 } = await import('@gpc/local-s3-server');
  const s3: RunningLocalS3 = await startLocalS3(['attachments']);
  t.after(() => s3.close());
  const store = new AttachmentStore({
    endpoint: s3.endpoint,
    region: 'eu-west-2',
    bucket: 'attachments',
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
    forcePathStyle: true,
  });
  t.after(() => store.destroy());
  return store;
}

/** socket.io's Redis adapter on the test Redis, on the staff dashboards' key. */
async function redisAdapter(t: TestLifetime, url: string): Promise<Partial<ServerOptions>> {
  const publisher = new Redis(url);
  const subscriber = publisher.duplicate();
  t.after(() => {
    publisher.disconnect();
    subscriber.disconnect();
  });
  // made before they are connected, the adapter hears none of the record worker's announcements
  await Promise.all([publisher, subscriber].map((client) => once(client, 'ready')));
  return { adapter: createAdapter(publisher, subscriber, { key: StaffLive.redisKey }) };
}

/**
 * Staff revocations on Redis, as server.ts wires them: the publisher fails fast while Redis is down
 * (as triage's does), the subscriber subscribes again when it is back.
 */
function revocationLink(t: TestLifetime, url: string): NonNullable<TriageAppDeps['redis']> {
  const retryStrategy = (times: number) => Math.min(200 * times, 2000);
  const publisher = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1, retryStrategy });
  const subscriber = new Redis(url, { retryStrategy });
  // a test that stops its Redis sees these fail; triage logs them (watchRedis)
  for (const client of [publisher, subscriber]) client.on('error', () => undefined);
  t.after(() => {
    publisher.disconnect();
    subscriber.disconnect();
  });
  return { ping: () => publisher.ping(), revocations: redisRevocationLink(publisher, subscriber) };
}

function startWriteBackQueue(t: TestLifetime, prefix: string): WriteBackQueue {
  const queue = createWriteBackQueue(testRedisUrl, { prefix });
  t.after(async () => {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
  });
  return queue;
}

/** The triage app, its data and signed-in staff; cleaned up when `t` ends (see `TestLifetime`). */
export async function startTriage(t: TestLifetime, options: StartTriageOptions = {}): Promise<TestTriage> {
  const cleanup = cleanupStack(t);
  const db = await startTestDatabase(cleanup);
  const [practiceA, practiceB] = await Promise.all([
    seedPractice(db.pool, 'A81001'),
    seedPractice(db.pool, 'B82002'),
  ]);
  const attachments = options.attachments ? await startAttachments(cleanup) : undefined;
  const writeBackQueue = options.writeBackQueue
    ? startWriteBackQueue(cleanup, options.writeBackQueue.prefix ?? `gpc-test-${randomUUID()}`)
    : undefined;
  const { now, publicWebUrl, logger, rateLimitAllowList, notifications, trustedProxies, signInBackoff } =
    options;
  const redisUrl = options.redisUrl ?? testRedisUrl;
  const live = options.live === 'redis' ? await redisAdapter(cleanup, redisUrl) : options.live;
  const revocations = options.live === 'redis' ? revocationLink(cleanup, redisUrl) : undefined;
  const tracing = options.pds
    ? await startTracing(cleanup, options.pds === true ? {} : options.pds)
    : undefined;
  const nhsLogin = options.nhsLogin
    ? await startNhsLogin(cleanup, options.nhsLogin === true ? {} : options.nhsLogin)
    : undefined;
  const cis2 = options.cis2 ? await startCis2(cleanup, options.cis2 === true ? {} : options.cis2) : undefined;
  const callNodeKey = generateSigningKey(`call-node-${randomUUID()}`);
  const app = await buildTriageApp({
    pool: db.pool,
    callNodeKeys: new CallNodeKeys({ keys: [publicHalf(callNodeKey)] }),
    tokenKeys: new TokenKeys(options.signingKeys ?? [generateSigningKey()], defaultTokenIssuer),
    ...(options.callLinkTtlSeconds ? { callLinkTtlSeconds: options.callLinkTtlSeconds } : {}),
    writeBack: writeBackQueue ? writeBacksTo(writeBackQueue) : noWriteBacks,
    outbound: options.outbound ?? localOutbound,
    ...(now ? { now } : {}),
    ...(publicWebUrl ? { publicWebUrl } : {}),
    ...(logger ? { logger } : {}),
    ...(rateLimitAllowList ? { rateLimitAllowList } : {}),
    ...(trustedProxies ? { trustedProxies } : {}),
    ...(signInBackoff ? { signInBackoff } : {}),
    ...(attachments ? { attachments } : {}),
    ...(live ? { live } : {}),
    ...(revocations || options.callPlacement
      ? {
          redis: {
            ping: () => (options.callPlacement ?? revocations)!.ping(),
            ...revocations,
            ...(options.callPlacement ? { callPlacement: options.callPlacement } : {}),
          },
        }
      : {}),
    ...(notifications ? { notifications: withNotificationQueue(notifications) } : {}),
    ...(tracing ? { identity: tracing.deps } : {}),
    ...(nhsLogin ? { nhsLogin: nhsLogin.settings } : {}),
    ...(cis2 ? { cis2: cis2.settings } : {}),
    secrets: options.secrets ?? testSecretsKeyring,
    ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
  });
  cleanup.after(() => app.close());
  let url = '';
  if (options.listen || live) {
    await app.listen({ host: '127.0.0.1', port: 0 });
    url = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  }

  const as = (practice: SeededPractice, role: StaffRole) => signedIn(app, practice, role);
  const formId = async (slug: string, practice = practiceA) => {
    const forms = (await app.inject({ method: 'GET', url: `/practices/${practice.odsCode}` })).json<{
      forms: { id: string; slug: string }[];
    }>().forms;
    const form = forms.find((candidate) => candidate.slug === slug);
    if (!form) throw new Error(`practice ${practice.odsCode} has no form "${slug}"`);
    return form.id;
  };
  return {
    app,
    db,
    practiceA,
    practiceB,
    as,
    formId,
    url,
    attachments,
    writeBackQueue,
    pds: tracing?.server,
    traceQueue: tracing?.deps.queue,
    nhsLogin,
    cis2,
    after: (fn) => cleanup.after(fn),
    callNodeKey,
  };
}

/** The public members of an Ed25519 JWK. */
function publicHalf({ kty, crv, x, kid }: JsonWebKey): JsonWebKey {
  return { kty, crv, x, kid, alg: 'EdDSA', use: 'sig' };
}

/** The PDS stand-in (its own unless given) and how triage traces against it; the app closes the queue. */
async function startTracing(
  t: TestLifetime,
  option: PdsOption,
): Promise<{ server: RunningLocalPds; deps: PatientTraceDeps }> {
  // loaded here: most test files never need it
  const { startLocalPds } = await import('@gpc/local-pds-server');
  let server = option.server;
  if (!server) {
    const own = await startLocalPds();
    t.after(() => own.close());
    server = own;
  }
  const retryBaseDelayMs = option.retryBaseDelayMs ?? 200;
  const prefix = option.prefix ?? `gpc-test-${randomUUID()}`;
  const queue = createTraceQueue(testRedisUrl, { prefix, retryBaseDelayMs });
  // after the app has closed the queue: its keys go with a client of its own
  t.after(async () => {
    const leftover = createTraceQueue(testRedisUrl, { prefix });
    await leftover.obliterate({ force: true }).catch(() => undefined);
    await leftover.close();
  });
  const pds = createPdsClient({
    baseUrl: option.baseUrl ?? server.baseUrl,
    tokenUrl: server.tokenUrl,
    apiKey: server.apiKey,
    privateKey: server.key.privateKeyPem,
    kid: server.key.kid,
    timeoutMs: 3000,
  });
  return {
    server,
    deps: {
      queue,
      pds,
      retryBaseDelayMs,
      sweepIntervalMs: option.sweepIntervalMs ?? 0,
      ...(option.sweepAfterMs === undefined ? {} : { sweepAfterMs: option.sweepAfterMs }),
    },
  };
}

function withNotificationQueue({
  prefix,
  retryBaseDelayMs,
  deliveryCheckEveryMs,
  ...sender
}: NonNullable<StartTriageOptions['notifications']>): NonNullable<TriageAppDeps['notifications']> {
  const queue = createNotificationQueue(testRedisUrl, {
    prefix: prefix ?? `gpc-test-${randomUUID()}`,
    ...(retryBaseDelayMs === undefined ? {} : { retryBaseDelayMs }),
    ...(deliveryCheckEveryMs === undefined ? {} : { deliveryCheckEveryMs }),
  });
  // the app runs the sender and closes this queue
  return { queue, ...sender };
}
