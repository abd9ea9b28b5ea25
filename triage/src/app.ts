import helmet from '@fastify/helmet';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type pg from 'pg';
import {
  databaseAndRedisWords,
  NotReady,
  notReadyMessage,
  QueueNames,
  Ready,
  type ReadinessDependency,
  type WriteBackJob,
} from '@gpc/contracts';
import rateLimit from '@fastify/rate-limit';
import { registerStaffAuth } from './auth/staff-auth';
import type { TokenKeys } from './auth/token-keys';
import type { ServerOptions } from 'socket.io';
import type { AttachmentStore } from './attachments/store';
import { registerErrorHandling } from './errors';
import { attachmentRoutes } from './routes/attachments';
import { callPlacementRoutes, callRoutes } from './routes/calls';
import { callEventRoutes } from './routes/call-events';
import { callDataRoutes } from './routes/call-data';
import type { CallNodeKeys } from './auth/call-node-keys';
import { createStaffLive, type QueueChange } from './live';
import { authRoutes, defaultSignInBackoff } from './routes/auth';
import { accountRoutes } from './routes/account';
import { staffCredentialRoutes } from './routes/staff-credentials';
import type { SignInBackoff } from './db/staff-credentials';
import { consultationRoutes } from './routes/consultations';
import { formRoutes } from './routes/forms';
import { staffMessageRoutes } from './routes/messages';
import { patientThreadRoutes } from './routes/threads';
import { threadLinkFor } from './thread-tokens';
import { enqueueNotification, type NotificationQueue } from './notifications/queue';
import { startNotificationWorker, type NotificationWorkerDeps } from './notifications/worker';
import { navigationRoutes } from './routes/navigation';
import { practiceAdminRoutes } from './routes/practice-admin';
import { pauseRoutes } from './routes/pauses';
import { warnIfBankHolidaysEnding } from './hours/bank-holidays';
import { submissionRoutes } from './routes/submissions';
import { writeBackRoutes } from './routes/write-back';
import { identityRoutes } from './routes/identity';
import { startPatientTraces, type PatientTraceDeps, type TraceQueueing } from './identity/start';
import { NhsLoginClient, type NhsLoginSettings } from './nhs-login/client';
import { nhsLoginRoutes } from './routes/nhs-login';
import { Cis2Client, type Cis2Settings } from './cis2/client';
import { cis2Routes } from './routes/cis2';
import type { Redis } from 'ioredis';
import { queueClient, withRedis } from './redis';
import { strictOutbound, type OutboundPolicy } from '@gpc/outbound';
import { createSender } from './notifications/senders';
import { rateLimitKey } from './rate-limit-key';
import { registerStaffRevocation, RevokedStaff, type StaffRevocationLink } from './staff-revocation';
import type { SecretKeyring } from '@gpc/contracts/secrets';
import { createServiceMetrics, registerMetrics } from '@gpc/contracts/metrics';
import { registerTriageMetrics } from './metrics';

export interface WriteBackQueueing {
  /** Queues a newly closed consultation's write-back (a no-op if it is queued already). */
  queue: (job: WriteBackJob) => Promise<void>;
  /** Queues it again after a replay or a patient match, replacing a finished job. */
  requeue: (job: WriteBackJob) => Promise<void>;
}

export interface TriageAppDeps {
  pool: pg.Pool;
  /** Signs every token triage issues and verifies those it takes; its public keys are served as a JWKS. */
  tokenKeys: TokenKeys;
  /** How long a video call's links let the patient and guests in. Default an hour. */
  callLinkTtlSeconds?: number;
  /** The write-back queue: closed consultations' summaries on their way into the GP record. */
  writeBack: WriteBackQueueing;
  logger?: FastifyBaseLogger;
  /** The clock for opening hours and capacity (tests set it). */
  now?: () => Date;
  /** Patients' attachments in S3; without it, requests cannot carry files. */
  attachments?: AttachmentStore;
  /** Where the web pages are served: patients' thread links point there. */
  publicWebUrl?: string;
  /** Clients the rate limits do not apply to (e.g. a load test's own address). */
  rateLimitAllowList?: string[];
  /** The proxies in front of triage whose X-Forwarded-For names the client; none trusted when absent. */
  trustedProxies?: string[];
  /** Staff sign-in's per-account back-off; the default when absent. */
  signInBackoff?: SignInBackoff;
  /** Live queue updates to staff dashboards: socket.io options (e.g. the Redis adapter); off when absent. */
  live?: Partial<ServerOptions>;
  /**
   * Sends thread links to patients by email or text message (GOV.UK Notify or SMTP, per practice)
   * and follows their delivery; the app runs the sender and closes the queue. Without it, staff
   * send the links themselves.
   */
  notifications?: { queue: NotificationQueue } & Omit<
    NotificationWorkerDeps,
    'queue' | 'pool' | 'logger' | 'threadLink' | 'announce' | 'secrets'
  >;
  /**
   * Traces patients against PDS after submission (the app runs the worker and closes the queue).
   * Without it tracing is off: no request typed into the form is ever filed.
   */
  identity?: PatientTraceDeps;
  /** Sign in with NHS login on the form, for the practices that offer it; off when absent. */
  nhsLogin?: NhsLoginSettings;
  /** Staff sign-in with NHS CIS2, for the practices that chose it; off when absent. */
  cis2?: Cis2Settings;
  /** The Redis behind queues and live updates, when there is one: triage serves whether or not it is up. */
  redis?: RedisLink;
  /**
   * Where practice-configured places (GP system, Notify, SMTP relay) may be: the deployment's
   * outbound policy; https to public addresses only when absent.
   */
  outbound?: OutboundPolicy;
  /** Encrypts and decrypts practices' stored credentials (TRIAGE_SECRETS_*); without it none can be stored. */
  secrets?: SecretKeyring;
  /**
   * The call nodes' public keys (TRIAGE_CALL_NODE_KEYS): a call node posts its calls' events
   * (call data) with a token of its own key. Without them no call data is taken.
   */
  callNodeKeys?: CallNodeKeys;
  /** Serves `GET /metrics` to a scrape bearing this token (TRIAGE_METRICS_TOKEN); not served without it. */
  metricsToken?: string;
}

/** How the app follows Redis, which may be down at boot or go down at any time. */
export interface RedisLink {
  /** Answers while Redis does (`/readyz`). */
  ping(): Promise<unknown>;
  /** The live updates' adapter across replicas, once Redis first answers (dashboards are served locally until then). */
  liveAdapter?: Promise<NonNullable<ServerOptions['adapter']>>;
  /** Calls back each time Redis is back after an outage: dashboards reload what they missed. */
  onBack?(listener: () => void): void;
  /** Staff revocations to and from every triage and call node. */
  revocations?: StaffRevocationLink;
  /** Where call nodes announce themselves: new calls are placed on them (calls/placement.ts). */
  callPlacement?: Redis;
}

const Health = Type.Object({ status: Type.Literal('ok'), database: Type.Literal('ok') });
const Live = Type.Object({ status: Type.Literal('live') });
const Unavailable = Type.Object({ code: Type.Literal('unavailable'), message: Type.String() });

/** The triage REST API, built from its dependencies; never listens (server.ts does). */
export async function buildTriageApp(deps: TriageAppDeps): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : {}),
    // unknown fields are refused rather than dropped; query strings arrive as text, so they are coerced
    ajv: { customOptions: { removeAdditional: false, coerceTypes: true, allErrors: false } },
    bodyLimit: 1024 * 1024,
    trustProxy: deps.trustedProxies?.length ? deps.trustedProxies : false,
  }).withTypeProvider<TypeBoxTypeProvider>();

  const metrics = createServiceMetrics('triage', Boolean(deps.metricsToken));
  registerMetrics(app, metrics, deps.metricsToken);
  registerTriageMetrics(metrics.registry, deps.pool, {
    [QueueNames.patientNotifications]: deps.notifications?.queue,
    'patient-traces': deps.identity?.queue,
  });
  await registerPlatform(app, deps);
  registerHealth(app, deps.pool);
  registerReadiness(app, deps.pool, deps.redis);
  const notify = startStaffLive(app, deps);
  const publicWebUrl = deps.publicWebUrl ?? 'http://127.0.0.1:5173';
  const queueNotification = startNotifications(app, deps, publicWebUrl, notify);
  const traces = startPatientTraces(app, deps.pool, deps.identity, (practiceId, consultationId) =>
    notify(practiceId, { consultationId, change: 'updated' }),
  );
  await registerRoutes(app, deps, { publicWebUrl, notify, queueNotification, traces });
  return app;
}

/** Security headers, staff tokens, rate limits, the OpenAPI document and the error translation. */
async function registerPlatform(app: FastifyInstance, deps: TriageAppDeps): Promise<void> {
  // HSTS a year long (ASVS 3.4.1); helmet's nosniff, no-referrer and framing rules as they are
  await app.register(helmet, { hsts: { maxAge: 365 * 24 * 60 * 60, includeSubDomains: true } });
  // answers hold patients' data and tokens: no browser or proxy keeps a copy
  app.addHook('onSend', async (_request, reply, payload) => {
    if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
    return payload;
  });
  registerStaffAuth(app, deps.tokenKeys);
  // per client; routes that need tighter limits (sign-in, the public form) set their own
  await app.register(rateLimit, {
    max: 300,
    timeWindow: '1 minute',
    // by address, whether the client is counted by address or (signed-in staff) on its own
    allowList: (request, key) => {
      const allowed = deps.rateLimitAllowList ?? [];
      return allowed.includes(request.ip) || allowed.includes(key);
    },
    // signed-in staff each on their own, patients' threads each on their own, others by address
    keyGenerator: (request) => rateLimitKey(app, request),
  });
  await app.register(swagger, {
    openapi: {
      info: {
        title: 'GP Consult triage API',
        version: '0.1.0',
        description: 'Online consultations for GP practices',
      },
    },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  registerErrorHandling(app);
  app.get('/openapi.json', { schema: { hide: true } }, () => app.swagger());
  // the public halves of the token keys, for the call node (and anyone) to verify triage's tokens with
  app.get('/.well-known/jwks.json', { schema: { hide: true } }, () => app.tokens.publicJwks());
}

/**
 * Probes (`/healthz`, `/health`, `/readyz`) count in a bucket of their own per address: sharing the
 * address's general one, a load balancer's or orchestrator's probes were refused 429 with everyone
 * else from its address once that was used up (seen in a chaos run), and a refused probe takes a
 * healthy replica out of service. Still bounded: each asks PostgreSQL (and Redis) something.
 */
const probeRateLimit = {
  rateLimit: {
    max: 600,
    timeWindow: '1 minute',
    keyGenerator: (request: { ip: string }) => `probe:${request.ip}`,
  },
};

function registerHealth(app: FastifyInstance, pool: pg.Pool): void {
  // liveness for orchestrators: the process answers; never its dependencies, so an outage of
  // PostgreSQL or Redis marks triage not ready (`/readyz`) instead of having it restarted
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/healthz',
    {
      logLevel: 'warn',
      config: probeRateLimit,
      schema: { summary: 'Liveness: the process answers', response: { 200: Live } },
    },
    () => ({ status: 'live' as const }),
  );
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/health',
    {
      // probes poll this every few seconds: their requests are not worth a log line each
      logLevel: 'warn',
      config: probeRateLimit,
      schema: { summary: 'Liveness and database reachability', response: { 200: Health, 503: Unavailable } },
    },
    async (_request, reply) => {
      try {
        await pool.query('SELECT 1');
        return { status: 'ok' as const, database: 'ok' as const };
      } catch {
        return reply
          .code(503)
          .send({ code: 'unavailable' as const, message: 'The database is not answering' });
      }
    },
  );
}

/** How long `/readyz` waits for each dependency to answer. */
const readinessTimeoutMs = 1000;

/** Ready when PostgreSQL and Redis (if triage uses one) both answer; otherwise 503 naming what is down. */
function registerReadiness(app: FastifyInstance, pool: pg.Pool, redis: RedisLink | undefined): void {
  const answers = (check: () => Promise<unknown>) =>
    Promise.race([
      check().then(() => true),
      new Promise<boolean>((resolve) => setTimeout(resolve, readinessTimeoutMs, false).unref()),
    ]).catch(() => false);
  app.withTypeProvider<TypeBoxTypeProvider>().get(
    '/readyz',
    {
      logLevel: 'warn',
      config: probeRateLimit,
      schema: { summary: 'Readiness: PostgreSQL and Redis answer', response: { 200: Ready, 503: NotReady } },
    },
    async (_request, reply) => {
      const [database, redisUp] = await Promise.all([
        answers(() => pool.query('SELECT 1')),
        redis ? answers(() => redis.ping()) : Promise.resolve(true),
      ]);
      const down: ReadinessDependency[] = [];
      if (!database) down.push('database');
      if (!redisUp) down.push('redis');
      if (down.length > 0)
        return reply.code(503).send({
          code: 'unavailable' as const,
          message: notReadyMessage(down, databaseAndRedisWords),
          down,
        });
      return { status: 'ready' as const };
    },
  );
}

/** Live queue updates to staff dashboards, when configured; returns how routes announce a change. */
function startStaffLive(
  app: FastifyInstance,
  deps: TriageAppDeps,
): (practiceId: string, change: QueueChange) => void {
  const revoked = new RevokedStaff();
  const staffLive = deps.live
    ? createStaffLive(app.server, (token) => app.tokens.verify('staff', token), deps.live, revoked)
    : undefined;
  // stopping, demoting or resetting a member of staff closes their dashboards (and calls) everywhere
  registerStaffRevocation(
    app,
    revoked,
    (staffId) => staffLive?.disconnectStaff(staffId),
    deps.redis?.revocations,
  );
  if (staffLive) {
    app.addHook('preClose', () => staffLive.close());
    void deps.redis?.liveAdapter?.then((adapter) => staffLive.useAdapter(adapter));
    deps.redis?.onBack?.(() => staffLive.resync());
  }
  return (practiceId, change) => staffLive?.notify(practiceId, change);
}

/** Runs the sender of links to patients, when configured; returns how routes queue one. */
function startNotifications(
  app: FastifyInstance,
  deps: TriageAppDeps,
  publicWebUrl: string,
  notify: (practiceId: string, change: QueueChange) => void,
): ((notificationId: string) => Promise<void>) | undefined {
  const notifications = deps.notifications;
  if (!notifications) return undefined;
  const sender = startNotificationWorker({
    ...notifications,
    senderFor:
      notifications.senderFor ?? ((settings) => createSender(settings, deps.outbound ?? strictOutbound)),
    pool: deps.pool,
    logger: app.log,
    ...(deps.secrets ? { secrets: deps.secrets } : {}),
    threadLink: (consultationId, practiceId) => threadLinkFor(app, publicWebUrl, consultationId, practiceId),
    announce: (practiceId, consultationId) => notify(practiceId, { consultationId, change: 'updated' }),
  });
  app.addHook('onClose', () => sender.close());
  // refused at once while Redis is down: the notification stays queued in PostgreSQL for the sweep
  return (notificationId) =>
    withRedis(queueClient(notifications.queue), () =>
      enqueueNotification(notifications.queue, notificationId),
    );
}

/** Every route group, each a plugin under its prefix. */
async function registerRoutes(
  app: FastifyInstance,
  deps: TriageAppDeps,
  shared: {
    publicWebUrl: string;
    notify: (practiceId: string, change: QueueChange) => void;
    queueNotification: ((notificationId: string) => Promise<void>) | undefined;
    traces: TraceQueueing | undefined;
  },
): Promise<void> {
  const { pool, attachments } = deps;
  const { publicWebUrl, notify, queueNotification, traces } = shared;
  const now = deps.now ?? (() => new Date());
  const backoff = deps.signInBackoff ?? defaultSignInBackoff;
  const secrets = deps.secrets ? { secrets: deps.secrets } : {};
  await app.register(authRoutes, { prefix: '/auth', pool, backoff, ...secrets });
  await app.register(accountRoutes, { prefix: '/account', pool, backoff, ...secrets });
  await app.register(staffCredentialRoutes, { pool });
  await app.register(cis2Routes, {
    prefix: '/auth/cis2',
    pool,
    now,
    publicWebUrl,
    cis2: deps.cis2 ? new Cis2Client(deps.cis2) : undefined,
  });
  await app.register(navigationRoutes, { prefix: '/navigation-rules', pool });
  await app.register(practiceAdminRoutes, {
    pool,
    now,
    outbound: deps.outbound ?? strictOutbound,
    ...(deps.secrets ? { secrets: deps.secrets } : {}),
  });
  await app.register(pauseRoutes, { prefix: '/practice', pool, now });
  warnIfBankHolidaysEnding(app.log, now());
  await app.register(staffMessageRoutes, {
    prefix: '/consultations',
    pool,
    publicWebUrl,
    notify,
    ...(queueNotification ? { queueNotification } : {}),
  });
  await app.register(patientThreadRoutes, {
    prefix: '/threads',
    pool,
    notify,
    now,
    ...(attachments ? { attachments } : {}),
  });
  await app.register(consultationRoutes, {
    prefix: '/consultations',
    pool,
    queueWriteBack: deps.writeBack.queue,
    notify,
  });
  await app.register(writeBackRoutes, {
    pool,
    requeueWriteBack: deps.writeBack.requeue,
    notify,
    ...(traces ? { queueTrace: traces.requeueNow } : {}),
  });
  await app.register(identityRoutes, {
    prefix: '/consultations',
    pool,
    requeueWriteBack: deps.writeBack.requeue,
    notify,
  });
  await app.register(formRoutes, { prefix: '/practices', pool, now });
  await app.register(nhsLoginRoutes, {
    pool,
    now,
    publicWebUrl,
    nhsLogin: deps.nhsLogin ? new NhsLoginClient(deps.nhsLogin) : undefined,
  });
  await app.register(submissionRoutes, {
    prefix: '/practices',
    pool,
    now,
    notify,
    ...(attachments ? { attachments } : {}),
    ...(traces ? { queueTrace: traces.queue } : {}),
  });
  if (attachments) await app.register(attachmentRoutes, { pool, store: attachments });
  await app.register(callRoutes, {
    prefix: '/calls',
    pool,
    publicWebUrl,
    callLinkTtlSeconds: deps.callLinkTtlSeconds ?? 3600,
    ...(deps.redis?.callPlacement ? { placement: deps.redis.callPlacement } : {}),
  });
  if (deps.redis?.callPlacement)
    await app.register(callPlacementRoutes, {
      prefix: '/call-placement',
      pool,
      publicWebUrl,
      placement: deps.redis.callPlacement,
    });
  await app.register(callEventRoutes, { prefix: '/internal', pool, callNodes: deps.callNodeKeys });
  await app.register(callDataRoutes, { pool });
}
