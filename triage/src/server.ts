import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import pg from 'pg';
import { createWriteBackQueue, enqueueWriteBack, requeueWriteBack } from '@gpc/record/queue';
import { listenFailure, loadConfigOrExit, s3Settings, StaffLive, stopOnSignal } from '@gpc/contracts';
import { buildTriageApp } from './app';
import { CallNodeKeys, parseCallNodeKeys } from './auth/call-node-keys';
import { redisRevocationLink } from './staff-revocation';
import { trustedProxiesFrom } from './trusted-proxies';
import { AttachmentStore } from './attachments/store';
import { loadTriageConfig, pdsSettings } from './config';
import { createPdsClient } from './identity/pds-client';
import { createTraceQueue } from './identity/queue';
import { prepareDatabase } from './db/prepare';
import { createTriageLogger } from './logger';
import { parseSigningKeys, TokenKeys } from './auth/token-keys';
import { createNotificationQueue } from './notifications/queue';
import { cis2SettingsFrom } from './cis2/settings';
import { nhsLoginSettingsFrom } from './nhs-login/settings';
import { secretKeyringFrom } from '@gpc/contracts/secrets';
import {
  failFastRedisOptions,
  publishingSafely,
  queueClient,
  reconnectPromptly,
  watchRedis,
  withRedis,
} from './redis';

const config = loadConfigOrExit('triage', loadTriageConfig);

const logger = createTriageLogger(config.logLevel);
try {
  // waits while PostgreSQL is not answering (restarting, failing over): a supervisor need not loop us
  await prepareDatabase(config.databaseUrl, logger);
} catch (error) {
  process.stderr.write(
    `triage: cannot prepare the database: ${error instanceof Error ? error.message : String(error)}\n`,
  );
  process.exit(1);
}

const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 10 });
// an idle connection the server drops (restart, failover) is replaced on next use: log it, never crash
pool.on('error', (error) => logger.warn({ err: error }, 'idle database connection lost'));
const writeBackQueue = createWriteBackQueue(config.redisUrl);
// closes queue onto it as soon as Redis is back, not after bull's backoff of up to 20 s
writeBackQueue.client.options.retryStrategy = reconnectPromptly;
// this process also sends the links staff messages create, by each practice's provider
const notificationQueue = createNotificationQueue(config.redisUrl, {
  lockDurationMs: config.queueLockDurationMs,
  stalledIntervalMs: config.queueStalledIntervalMs,
});
const attachments = new AttachmentStore(s3Settings(config));
// and traces patients against PDS, when it is set up (otherwise no request typed into the form is filed)
const pds = pdsSettings(config);
if (!pds)
  logger.warn('PDS is not set up (TRIAGE_PDS_*): patients are not traced, and form requests are never filed');
const nhsLogin = nhsLoginSettingsFrom(config);
const cis2 = cis2SettingsFrom(config);
// practices' stored credentials are encrypted under these keys; without them none can be stored or used
const secrets = secretKeyringFrom(config, 'TRIAGE');
if (!secrets) logger.warn('TRIAGE_SECRETS_* is not set: practices cannot store or use credentials');
// triage serves whether or not Redis is up: the publisher fails fast while it is down (a close or a
// submission never waits for it), and each client's outage is logged once, and its return
const redisPublisher = new Redis(config.redisUrl, failFastRedisOptions);
const redisSubscriber = new Redis(config.redisUrl, { retryStrategy: failFastRedisOptions.retryStrategy });
// staff revocations (stopped, demoted, reset) from and to every triage and call node
const revocationSubscriber = new Redis(config.redisUrl, {
  retryStrategy: failFastRedisOptions.retryStrategy,
});
watchRedis(revocationSubscriber, 'revocation-subscriber', logger);
const backListeners: (() => void)[] = [];
watchRedis(redisPublisher, 'live-publisher', logger);
watchRedis(redisSubscriber, 'live-subscriber', logger, {
  // resubscribed: dashboards reconnect and reload what they missed meanwhile
  onBack: () => backListeners.forEach((listener) => listener()),
});
watchRedis(writeBackQueue, 'write-back-queue', logger, { readyFrom: writeBackQueue.client });
watchRedis(notificationQueue, 'notification-queue', logger, { readyFrom: notificationQueue.client });
const traceQueue = pds ? createTraceQueue(config.redisUrl) : undefined;
if (traceQueue) watchRedis(traceQueue, 'trace-queue', logger, { readyFrom: traceQueue.client });
const firstReady = (client: Redis) =>
  new Promise<void>((resolve) =>
    client.status === 'ready' ? resolve() : client.once('ready', () => resolve()),
  );
// the adapter subscribes as it is made, and ioredis loses a subscription asked for between its
// connecting and being ready: it is made once both are ready (dashboards are served locally until then)
const liveAdapter = Promise.all([redisPublisher, redisSubscriber].map(firstReady)).then(() =>
  createAdapter(publishingSafely(redisPublisher, logger), redisSubscriber, { key: StaffLive.redisKey }),
);
// owed notifications and traces whose job Redis lost are found in PostgreSQL and queued again
const sweeps = { sweepIntervalMs: config.sweepIntervalMs, sweepAfterMs: config.sweepAfterMs };
const app = await buildTriageApp({
  pool,
  outbound: { allowLoopbackHttp: config.outboundAllowLoopbackHttp },
  tokenKeys: new TokenKeys(parseSigningKeys(config.signingKeys), config.tokenIssuer),
  callLinkTtlSeconds: config.callLinkTtlMinutes * 60,
  writeBack: {
    // refused at once while Redis is down: the write-back stays pending for the record worker's sweep
    queue: (job) => withRedis(queueClient(writeBackQueue), () => enqueueWriteBack(writeBackQueue, job)),
    requeue: async (job) => {
      await withRedis(queueClient(writeBackQueue), () => requeueWriteBack(writeBackQueue, job));
    },
  },
  logger,
  attachments,
  publicWebUrl: config.publicWebUrl,
  trustedProxies: trustedProxiesFrom(config),
  live: {},
  redis: {
    // ready when the live updates' Redis answers and the queues can take jobs again
    ping: async () => {
      await redisPublisher.ping();
      const queues = [writeBackQueue, notificationQueue, ...(traceQueue ? [traceQueue] : [])];
      if (queues.some((queue) => queue.client.status !== 'ready'))
        throw new Error('a queue is not connected');
    },
    liveAdapter,
    onBack: (listener) => backListeners.push(listener),
    revocations: redisRevocationLink(redisPublisher, revocationSubscriber),
    // fails fast while Redis is down: a call cannot be placed then (503, try again)
    ...(config.callPlacement ? { callPlacement: redisPublisher } : {}),
  },
  notifications: { queue: notificationQueue, ...sweeps },
  ...(pds && traceQueue ? { identity: { queue: traceQueue, pds: createPdsClient(pds), ...sweeps } } : {}),
  // the form offers NHS login only when it is set up (TRIAGE_NHS_LOGIN_*) and the practice chose it
  ...(nhsLogin ? { nhsLogin } : {}),
  // staff may sign in with NHS CIS2 only when it is set up (TRIAGE_CIS2_*) and their practice chose it
  ...(cis2 ? { cis2 } : {}),
  ...(secrets ? { secrets } : {}),
  ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
  // call data from the call nodes, posted with their own keys' tokens (TRIAGE_CALL_NODE_KEYS)
  ...(config.callNodeKeys ? { callNodeKeys: new CallNodeKeys(parseCallNodeKeys(config.callNodeKeys)) } : {}),
});
if (!config.callNodeKeys) logger.warn('TRIAGE_CALL_NODE_KEYS is not set: no call data will be recorded');
try {
  await app.listen({ host: config.host, port: config.port });
} catch (error) {
  process.stderr.write(`${listenFailure('triage', config.port, error)}\n`);
  await pool.end();
  process.exit(1);
}
if (redisPublisher.status !== 'ready') {
  logger.warn(
    { redis: redisPublisher.status },
    'triage is serving without Redis: live updates and queues start when it answers',
  );
}

stopOnSignal(async () => {
  await app.close();
  await writeBackQueue.close();
  attachments.destroy();
  redisPublisher.disconnect();
  redisSubscriber.disconnect();
  revocationSubscriber.disconnect();
  await pool.end();
  process.exit(0);
});
