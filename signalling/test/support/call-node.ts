import { randomBytes, randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { StaffTokenClaims } from '@gpc/contracts';
import type { MediaWorkerPool } from '@gpc/media';
import type { SignallingApp } from '../../src/app';
import type { TokenService } from '../../src/auth/tokens';
import { startTestPool } from '../../../media/test/support/load-media';

export interface CallNode {
  /** The signalling origin, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The first mediasoup WebRtcServer port (UDP and TCP). */
  rtcPort: number;
  app: SignallingApp;
  media: MediaWorkerPool;
  tokens: TokenService;
  /** A clinician's access token (practice `practice-a` unless the claims say otherwise). */
  staffToken(claims?: Partial<StaffTokenClaims>, ttlSeconds?: number): string;
  close(): Promise<void>;
}

/**
 * A real call node for tests: the signalling app with real mediasoup workers on free ports, and
 * socket.io's Redis adapter on the test Redis. mediasoup reads MEDIASOUP_WORKER_BIN when loaded,
 * so media comes through media's test loader, and everything else that imports it is loaded after.
 */
export async function startCallNode(
  options: { workers?: number; publicWebUrl?: string; callLinkTtlSeconds?: number; jwtSecret?: string } = {},
): Promise<CallNode> {
  const [{ buildSignallingApp }, { TokenService }, { createAdapter }, { connectCrossNodeRedis }, { pino }] =
    await Promise.all([
      import('../../src/app'),
      import('../../src/auth/tokens'),
      import('@socket.io/redis-adapter'),
      import('../../src/cross-node-redis'),
      import('pino'),
    ]);
  const { pool: media, rtcPort } = await startTestPool({ workers: options.workers ?? 1 });
  const tokens = new TokenService(options.jwtSecret ?? randomBytes(32).toString('hex'));
  const redis = connectCrossNodeRedis(
    process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379',
    pino({ level: 'silent' }),
  );
  const app = buildSignallingApp({
    media,
    tokens,
    publicWebUrl: options.publicWebUrl ?? 'http://127.0.0.1:5173',
    callLinkTtlSeconds: options.callLinkTtlSeconds ?? 600,
    redisAnswers: () => redis.answers(),
    socketOptions: {
      adapter: createAdapter(redis.publisher, redis.subscriber, { key: `gpc-test-${randomUUID()}` }),
    },
  });
  await app.http.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.http.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    rtcPort,
    app,
    media,
    tokens,
    staffToken: (claims = {}, ttlSeconds = 900) =>
      tokens.sign(
        {
          typ: 'staff',
          sub: randomUUID(),
          practiceId: 'practice-a',
          role: 'clinician',
          name: 'Dr Test',
          ...claims,
        },
        ttlSeconds,
      ),
    async close() {
      await app.close();
      media.close();
      redis.disconnect();
    },
  };
}
