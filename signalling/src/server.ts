import type { AddressInfo } from 'node:net';
import { hostname } from 'node:os';
import { createAdapter } from '@socket.io/redis-adapter';
import { pino } from 'pino';
import { listenFailure, loadConfigOrExit, stopOnSignal } from '@gpc/contracts';
import { MediaWorkerPool } from '@gpc/media';
import { buildSignallingApp } from './app';
import { TokenService } from './auth/tokens';
import {
  callEventsSettings,
  internalUrlOf,
  loadSignallingConfig,
  tokenKeySource,
  turnSettings,
} from './config';
import { CallEventOutbox } from './calls/call-event-outbox';
import { connectCallLinkRedis } from './calls/call-links';
import { NodePresence } from './calls/node-presence';
import { connectCrossNodeRedis } from './cross-node-redis';
import { watchStaffRevocations } from './staff-revocation';

const config = loadConfigOrExit('signalling', () => loadSignallingConfig());

const logger = pino({ level: config.logLevel, base: { service: 'signalling' } });
const media = await MediaWorkerPool.create({
  workers: config.mediaWorkers,
  rtcPort: config.rtcPort,
  rtcListenIp: config.rtcListenIp,
  ...(config.rtcAnnouncedAddress ? { rtcAnnouncedAddress: config.rtcAnnouncedAddress } : {}),
}).catch((error: unknown) => {
  process.stderr.write(`signalling: cannot start mediasoup workers: ${String(error)}\n`);
  process.exit(1);
});
media.on('workerReplaced', (replacement, deadPid) =>
  logger.error(
    { deadPid, pid: replacement.worker.pid, index: replacement.index },
    'mediasoup worker died and was replaced',
  ),
);
media.on('fatal', (error) => {
  // no way to serve calls: exit so the supervisor restarts the whole call node
  logger.fatal({ err: error }, 'mediasoup worker could not be replaced');
  process.exit(1);
});

// Redis carries only events to other call nodes: the node starts, and its calls run, without it
const redis = connectCrossNodeRedis(config.redisUrl, logger);
// call links' holders and admissions: while Redis is away, joins and rejoins are refused ("try again")
const callLinkRedis = connectCallLinkRedis(config.redisUrl, logger);
// TURN credentials for participants behind networks that block direct media (none when not set)
const turn = turnSettings(config);
// call data: this node's calls' events, posted to triage (held in memory while it is away)
const callEventsTo = callEventsSettings(config);
const callEvents = callEventsTo
  ? new CallEventOutbox({ ...callEventsTo, nodeId: config.nodeId ?? hostname(), logger })
  : undefined;
if (!callEvents) logger.warn('SIGNALLING_CALL_EVENTS_* is not set: no call data is recorded');
const app = buildSignallingApp({
  media,
  tokens: new TokenService(tokenKeySource(config), config.tokenIssuer),
  logger,
  socketOptions: { adapter: createAdapter(redis.publisher, redis.subscriber) },
  redisAnswers: () => redis.answers(),
  callLinkRedis,
  callIdleSeconds: config.callIdleMinutes * 60,
  reconnectGraceSeconds: config.reconnectGraceSeconds,
  ...(turn ? { turn } : {}),
  ...(callEvents ? { callEvents } : {}),
  ...(config.metricsToken ? { metricsToken: config.metricsToken } : {}),
});
// a member of staff stopped, demoted or reset in triage leaves their calls here at once
watchStaffRevocations(app.io, redis.revocations, logger, redis.publisher);

try {
  await app.http.listen({ host: config.host, port: config.port });
} catch (error) {
  process.stderr.write(`${listenFailure('signalling', config.port, error)}\n`);
  media.close();
  process.exit(1);
}

// announced in Redis (URL, load, heartbeat) so triage places calls here
const presence = config.publicUrl
  ? new NodePresence({
      redis: callLinkRedis,
      nodeId: config.nodeId ?? hostname(),
      url: config.publicUrl,
      // the port it listens on (SIGNALLING_PORT=0 picks one)
      internalUrl: internalUrlOf(config, (app.http.server.address() as AddressInfo).port),
      calls: app.calls,
      media,
      logger,
    })
  : undefined;
if (presence) await presence.start();
else logger.warn('SIGNALLING_PUBLIC_URL is not set: no call is placed on this node');

// SIGTERM (an orchestrator's stop) drains: no new call is placed here, and the node stops once its
// calls have ended (the grace period bounds the wait; calls still here then are placed again on
// their pages' rejoin). SIGINT (Ctrl-C) stops at once. Registered first, so it is seen first.
let drainFirst = false;
process.once('SIGTERM', () => (drainFirst = true));
stopOnSignal(async () => {
  if (presence && drainFirst) {
    logger.info('draining: no new calls; stopping when the calls here have ended');
    await presence.drain();
  }
  await presence?.stop();
  await app.close();
  // the leaves the close just made, and anything triage has not taken yet, for a few seconds
  await callEvents?.close();
  media.close();
  redis.disconnect();
  callLinkRedis.disconnect();
  process.exit(0);
});
