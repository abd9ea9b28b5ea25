import { randomUUID, type JsonWebKey } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import {
  defaultTokenIssuer,
  type CallTokenClaims,
  type CallTokenRole,
  type StaffTokenClaims,
} from '@gpc/contracts';
import type { MediaWorkerPool } from '@gpc/media';
import { generateSigningKey, TokenKeys } from '@gpc/triage';
import type { SignallingApp } from '../../src/app';
import type { CallEventOutbox } from '../../src/calls/call-event-outbox';
import type { TurnSettings } from '../../src/calls/turn-credentials';
import { startTestPool } from '../../../media/test/support/load-media';

/** A call as triage makes one, with tokens into it signed by the fixture's keys. */
export interface TestCall {
  callId: string;
  consultationId: string;
  practiceId: string;
  /** The patient's link token. */
  patientToken: string;
  /** A host token (role clinician, `sub` the staff member's id: a new one unless said); 5 minutes unless said. */
  hostToken: (claims?: Partial<CallTokenClaims>, ttlSeconds?: number) => string;
  /** A guest's link token. */
  guestToken: (name?: string) => string;
}

export interface CallNode {
  /** The signalling origin, e.g. http://127.0.0.1:41234 */
  url: string;
  /** The first mediasoup WebRtcServer port (UDP and TCP). */
  rtcPort: number;
  app: SignallingApp;
  media: MediaWorkerPool;
  /** With `callEvents`: the queue of call events on their way to triage. */
  outbox: CallEventOutbox | undefined;
  /**
   * The keys standing in for triage's when the node is not pointed at a triage (`jwksUrl`): they
   * sign the tokens below, and the node is given only their public halves.
   */
  tokens: TokenKeys | undefined;
  /** A call of `practice-a` (unless said) as triage would make it. */
  createCall(practiceId?: string): TestCall;
  /** A call token with these claims: a patient of a new call of `practice-a` unless they say otherwise. */
  callToken(claims?: Partial<CallTokenClaims>, ttlSeconds?: number): string;
  /**
   * A clinician's staff *access* token (aud triage), signed with the same keys: the call node
   * refuses it, since only call tokens open calls.
   */
  staffToken(claims?: Partial<StaffTokenClaims>, ttlSeconds?: number): string;
  close(): Promise<void>;
}

export interface CallNodeOptions {
  workers?: number;
  /** Verify with a triage's keys (its `/.well-known/jwks.json`); the fixture's own keys otherwise. */
  jwksUrl?: string;
  /** How long the node keeps fetched keys, in seconds. */
  jwksCacheSeconds?: number;
  /** The fixture's own keys (the first signs), given to the node as a public JWKS; one new key otherwise. */
  signingKeys?: TokenKeys;
  /** A Redis of the test's own (e.g. one it stops); the test Redis otherwise. */
  redisUrl?: string;
  /** A call nobody is connected to for this long ends; 30 minutes unless said. */
  callIdleSeconds?: number;
  /** The address browsers are told to send media to: an impairment relay's, in front of the WebRtcServer. */
  rtcAnnouncedAddress?: string;
  /** A silent participant's seat is kept this long (shown as reconnecting); the service's 120 unless said. */
  reconnectGraceSeconds?: number;
  /** Posts call data to a triage (its URL, and the test triage's `callNodeKey`); none unless said. */
  callEvents?: { triageUrl: string; key: JsonWebKey };
  /** A TURN relay to hand participants credentials for (e.g. test-support's `startTurnServer`). */
  turn?: TurnSettings;
  /** Serves `/metrics` to scrapes bearing this token. */
  metricsToken?: string;
}

function callClaims(
  call: { callId: string; consultationId: string; practiceId: string },
  role: CallTokenRole,
  claims: Partial<CallTokenClaims> = {},
): CallTokenClaims {
  const name = role === 'clinician' ? 'Dr Test' : role === 'patient' ? 'Pat Example' : 'Gus Guest';
  return { typ: 'call', sub: randomUUID(), name, role, ...call, ...claims };
}

/** A call's tokens, as triage's call routes sign them. */
function testCall(keys: TokenKeys, practiceId: string): TestCall {
  const call = { callId: randomUUID(), consultationId: randomUUID(), practiceId };
  return {
    ...call,
    patientToken: keys.sign('call', callClaims(call, 'patient'), 600),
    hostToken: (claims = {}, ttlSeconds = 300) =>
      keys.sign('call', callClaims(call, 'clinician', claims), ttlSeconds),
    guestToken: (name = 'Gus Guest') => keys.sign('call', callClaims(call, 'guest', { name }), 600),
  };
}

/**
 * A real call node for tests: the signalling app with real mediasoup workers on free ports, and
 * socket.io's Redis adapter on the test Redis. mediasoup reads MEDIASOUP_WORKER_BIN when loaded,
 * so media comes through media's test loader, and everything else that imports it is loaded after.
 * It verifies call tokens with a triage's JWKS (`jwksUrl`), or with the public halves of keys of
 * the fixture's own, which sign for the test as triage would.
 */
export async function startCallNode(options: CallNodeOptions = {}): Promise<CallNode> {
  const [
    { buildSignallingApp },
    { TokenService },
    { createAdapter },
    { connectCrossNodeRedis },
    { watchStaffRevocations },
    { pino },
    { connectCallLinkRedis },
    { CallEventOutbox },
  ] = await Promise.all([
    import('../../src/app'),
    import('../../src/auth/tokens'),
    import('@socket.io/redis-adapter'),
    import('../../src/cross-node-redis'),
    import('../../src/staff-revocation'),
    import('pino'),
    import('../../src/calls/call-links'),
    import('../../src/calls/call-event-outbox'),
  ]);
  const { pool: media, rtcPort } = await startTestPool({
    workers: options.workers ?? 1,
    ...(options.rtcAnnouncedAddress ? { rtcAnnouncedAddress: options.rtcAnnouncedAddress } : {}),
  });
  const keys = options.jwksUrl
    ? undefined
    : (options.signingKeys ?? new TokenKeys([generateSigningKey()], defaultTokenIssuer));
  const verifier = new TokenService(
    keys
      ? { jwks: keys.publicJwks() }
      : { jwksUrl: options.jwksUrl!, cacheSeconds: options.jwksCacheSeconds ?? 300 },
    defaultTokenIssuer,
  );
  const signer = () => {
    if (!keys) throw new Error('this call node verifies with a triage’s keys: ask that triage for tokens');
    return keys;
  };
  const redisUrl = options.redisUrl ?? process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
  const outbox = options.callEvents
    ? new CallEventOutbox({
        triageUrl: options.callEvents.triageUrl,
        key: options.callEvents.key,
        nodeId: 'test-node',
        logger: pino({ level: 'silent' }),
        retryBaseMs: 100,
        retryMaxMs: 1000,
      })
    : undefined;
  const redis = connectCrossNodeRedis(redisUrl, pino({ level: 'silent' }));
  const callLinkRedis = connectCallLinkRedis(redisUrl, pino({ level: 'silent' }));
  const app = buildSignallingApp({
    media,
    tokens: verifier,
    redisAnswers: () => redis.answers(),
    callLinkRedis,
    callIdleSeconds: options.callIdleSeconds ?? 30 * 60,
    ...(options.reconnectGraceSeconds === undefined
      ? {}
      : { reconnectGraceSeconds: options.reconnectGraceSeconds }),
    ...(outbox ? { callEvents: outbox } : {}),
    ...(options.turn ? { turn: options.turn } : {}),
    ...(options.metricsToken ? { metricsToken: options.metricsToken } : {}),
    socketOptions: {
      adapter: createAdapter(redis.publisher, redis.subscriber, { key: `gpc-test-${randomUUID()}` }),
    },
  });
  // as server.ts: staff revocations from triage close calls here
  watchStaffRevocations(app.io, redis.revocations, pino({ level: 'silent' }), redis.publisher);
  await app.http.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.http.server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    rtcPort,
    app,
    media,
    tokens: keys,
    createCall: (practiceId = 'practice-a') => testCall(signer(), practiceId),
    callToken: (claims = {}, ttlSeconds = 600) => {
      const call = { callId: randomUUID(), consultationId: randomUUID(), practiceId: 'practice-a' };
      return signer().sign('call', callClaims(call, 'patient', claims), ttlSeconds);
    },
    staffToken: (claims = {}, ttlSeconds = 300) =>
      signer().sign(
        'staff',
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
    outbox,
    async close() {
      await app.close();
      await outbox?.close();
      media.close();
      redis.disconnect();
      callLinkRedis.disconnect();
    },
  };
}
