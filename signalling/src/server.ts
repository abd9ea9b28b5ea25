import { once } from 'node:events';
import { createAdapter } from '@socket.io/redis-adapter';
import { Redis } from 'ioredis';
import { pino } from 'pino';
import { listenFailure, loadConfigOrExit, stopOnSignal } from '@gpc/contracts';
import { MediaWorkerPool } from '@gpc/media';
import { buildSignallingApp } from './app';
import { TokenService } from './auth/tokens';
import { loadSignallingConfig } from './config';

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

const publisher = new Redis(config.redisUrl);
const subscriber = publisher.duplicate();
// the adapter subscribes as it is made, and ioredis loses a subscription asked for between its
// connecting and being ready: other nodes' messages would then never arrive here
await Promise.all([publisher, subscriber].map((client) => once(client, 'ready')));
const app = buildSignallingApp({
  media,
  tokens: new TokenService(config.jwtSecret),
  publicWebUrl: config.publicWebUrl,
  callLinkTtlSeconds: config.callLinkTtlMinutes * 60,
  logger,
  socketOptions: { adapter: createAdapter(publisher, subscriber) },
});

try {
  await app.http.listen({ host: config.host, port: config.port });
} catch (error) {
  process.stderr.write(`${listenFailure('signalling', config.port, error)}\n`);
  media.close();
  process.exit(1);
}

stopOnSignal(async () => {
  await app.close();
  media.close();
  publisher.disconnect();
  subscriber.disconnect();
  process.exit(0);
});
