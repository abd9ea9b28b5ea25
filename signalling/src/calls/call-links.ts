// Who holds each call link, whether it was admitted, and whether the call still lives, kept in
// Redis so that every call node (a restarted one, the node a call moves to) answers the same. A
// link's holder is the first device to open it; it is known by a random key the device keeps (in
// its page's session storage) and presents again on a rejoin. Only the key's SHA-256 is stored.
//
// While Redis is away nothing here can be checked: every operation fails at once with
// `unavailable` ("try again"), so a device that cannot be checked is never let in. Participants
// already connected go on (their media and chat never wait on Redis).
import { createHash, randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { FastifyBaseLogger } from 'fastify';
import { AppError } from '@gpc/contracts';

/** How long a call's record (and an ended call's "ended") outlives its last use: longer than any link lives. */
const retentionMs = 25 * 3600 * 1000;

/** What Redis says of a device arriving with a call token. */
export type LinkArrival =
  /** The call has ended (by the clinician, or idle): the token opens nothing. */
  | { kind: 'ended' }
  /** The id is another practice's or consultation's call. */
  | { kind: 'elsewhere' }
  /** The clinician removed this link's participant for good. */
  | { kind: 'removed' }
  /** The host (a member of staff, with a host token): no link to hold. */
  | { kind: 'host' }
  /** The link's first opener: it holds the link now, with the key it was given. */
  | { kind: 'first'; state: 'waiting' }
  /** The holder, back with its key: it resumes as it was. */
  | { kind: 'holder'; state: 'waiting' | 'admitted' }
  /** Someone else has the link: a second opener, who waits for the clinician. */
  | { kind: 'second' };

export interface CallRef {
  callId: string;
  practiceId: string;
  consultationId: string;
}

/** A new holder key: 256 random bits, as text the page keeps. */
export const newHolderKey = (): string => randomBytes(32).toString('base64url');
/** What is stored of a holder key. */
export const hashHolderKey = (key: string): string => createHash('sha256').update(key).digest('hex');

// KEYS: call, alive, link. ARGV: practiceId, consultationId, retentionMs, idleMs, mode, presented
// key hash ('' when none), new key hash. The call opens on its first token; a live call nobody has
// been connected to for the idle time ends here, when a token next comes for it.
const arriveScript = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'ended' then return {'ended'} end
if state then
  if redis.call('HGET', KEYS[1], 'practiceId') ~= ARGV[1] or redis.call('HGET', KEYS[1], 'consultationId') ~= ARGV[2] then
    return {'elsewhere'}
  end
  if redis.call('EXISTS', KEYS[2]) == 0 then
    redis.call('HSET', KEYS[1], 'state', 'ended')
    redis.call('PEXPIRE', KEYS[1], ARGV[3])
    return {'ended'}
  end
else
  redis.call('HSET', KEYS[1], 'state', 'live', 'practiceId', ARGV[1], 'consultationId', ARGV[2])
end
redis.call('PEXPIRE', KEYS[1], ARGV[3])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[4])
if ARGV[5] == 'host' then return {'host'} end
if redis.call('HGET', KEYS[3], 'removed') == '1' then return {'removed'} end
local holder = redis.call('HGET', KEYS[3], 'holder')
if not holder then
  redis.call('HSET', KEYS[3], 'holder', ARGV[7], 'state', 'waiting')
  redis.call('PEXPIRE', KEYS[3], ARGV[3])
  return {'first', 'waiting'}
end
if ARGV[6] ~= '' and holder == ARGV[6] then return {'holder', redis.call('HGET', KEYS[3], 'state')} end
return {'second'}
`;

// KEYS: call, link. ARGV: retentionMs, new holder key hash ('' to keep the holder). Admits the
// link's device; with a hash, that device becomes the holder. Refused for a removed link or an ended call.
const admitScript = `
if redis.call('HGET', KEYS[1], 'state') ~= 'live' then return 'ended' end
if redis.call('HGET', KEYS[2], 'removed') == '1' then return 'removed' end
if ARGV[2] ~= '' then redis.call('HSET', KEYS[2], 'holder', ARGV[2]) end
redis.call('HSET', KEYS[2], 'state', 'admitted')
redis.call('PEXPIRE', KEYS[2], ARGV[1])
return 'admitted'
`;

// KEYS: call, alive. Ends a live call nobody has kept alive for the idle time; 1 when the call is
// over (now or before), 0 while it lives.
const endIfIdleScript = `
if redis.call('HGET', KEYS[1], 'state') ~= 'live' then return 1 end
if redis.call('EXISTS', KEYS[2]) == 1 then return 0 end
redis.call('HSET', KEYS[1], 'state', 'ended')
return 1
`;

// KEYS: call, alive. ARGV: idleMs, retentionMs, practiceId, consultationId. Keeps a live call
// alive; 0 when it ended. A call whose record Redis lost (a failover without its data) is written
// again rather than ended under the people in it.
const keepAliveScript = `
local state = redis.call('HGET', KEYS[1], 'state')
if state == 'ended' then return 0 end
if not state then
  redis.call('HSET', KEYS[1], 'state', 'live', 'practiceId', ARGV[3], 'consultationId', ARGV[4])
end
redis.call('PEXPIRE', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], '1', 'PX', ARGV[1])
return 1
`;

const unavailable = (error: unknown) =>
  new AppError(
    'unavailable',
    'The video call service cannot check call links just now. Try again in a moment.',
    { cause: error },
  );

/**
 * The Redis client for call links: it fails a command at once while Redis is away (no queue, no
 * retry) and gives up on one Redis does not answer within a second, so a handshake is refused
 * with "try again" rather than left hanging.
 */
export function connectCallLinkRedis(url: string, logger: FastifyBaseLogger): Redis {
  const redis = new Redis(url, {
    enableOfflineQueue: false,
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let down = false;
  redis.on('error', (error: Error) => {
    if (down) return;
    down = true;
    logger.error(
      { err: error },
      'Redis unreachable: calls go on; new joins and rejoins are refused until it is back',
    );
  });
  redis.on('ready', () => {
    if (down) logger.info('Redis back: call links can be checked again');
    down = false;
  });
  return redis;
}

/** Resolves once the client is ready; rejects after `ms`. */
function readyWithin(redis: Redis, ms: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      redis.off('ready', onReady);
      reject(new Error(`Redis not ready (${redis.status})`));
    }, ms);
    const onReady = () => {
      clearTimeout(timer);
      resolve();
    };
    redis.once('ready', onReady);
  });
}

/** The call links' state in Redis: one holder per link, admissions, and calls' ends. */
export class CallLinks {
  constructor(
    private readonly redis: Redis,
    /** A call nobody is connected to for this long ends. */
    readonly idleMs: number,
  ) {}

  private keys(callId: string, linkId = '') {
    const call = `gpc:call:${callId}`;
    return { call, alive: `${call}:alive`, link: `${call}:link:${linkId}` };
  }

  /** Runs a command, after waiting up to a second for a client that is (re)connecting. */
  private async run<T>(command: () => Promise<T>): Promise<T> {
    try {
      if (this.redis.status !== 'ready') await readyWithin(this.redis, 1000);
      return await command();
    } catch (error) {
      throw unavailable(error);
    }
  }

  /**
   * A device arrives with a call token: the host (`linkId` undefined), or a link's device with the
   * key it presents, if any, and a fresh key it is given should it become the holder.
   */
  async arrive(
    ref: CallRef,
    link?: { linkId: string; presentedKey: string | undefined; newKey: string },
  ): Promise<LinkArrival> {
    const { call, alive, link: linkKey } = this.keys(ref.callId, link?.linkId);
    const reply = (await this.run(() =>
      this.redis.eval(
        arriveScript,
        3,
        call,
        alive,
        linkKey,
        ref.practiceId,
        ref.consultationId,
        retentionMs,
        Math.ceil(this.idleMs),
        link ? 'link' : 'host',
        link?.presentedKey ? hashHolderKey(link.presentedKey) : '',
        link ? hashHolderKey(link.newKey) : '',
      ),
    )) as [LinkArrival['kind'], ('waiting' | 'admitted')?];
    const [kind, state] = reply;
    if (kind === 'first') return { kind, state: 'waiting' };
    if (kind === 'holder') return { kind, state: state === 'admitted' ? 'admitted' : 'waiting' };
    return { kind };
  }

  /** Calls `listener` each time the client is connected to Redis again (after an outage). */
  onReconnected(listener: () => void): void {
    this.redis.on('ready', listener);
  }

  /** The clinician admits the link's device; `newHolderHash` when it is a second device taking the link over. */
  async admit(callId: string, linkId: string, newHolderHash?: string): Promise<void> {
    const { call, link } = this.keys(callId, linkId);
    const result = await this.run(() =>
      this.redis.eval(admitScript, 2, call, link, retentionMs, newHolderHash ?? ''),
    );
    if (result === 'ended') throw new AppError('notFound', 'This call has ended');
    if (result === 'removed') throw new AppError('notFound', 'no such participant');
  }

  /** Writes the link's holder (and whether it was admitted) again, as a node that has it in a call knows it. */
  async restoreHolder(
    callId: string,
    linkId: string,
    holderHash: string,
    state: 'waiting' | 'admitted',
  ): Promise<void> {
    const { link } = this.keys(callId, linkId);
    await this.run(() =>
      this.redis.multi().hset(link, 'holder', holderHash, 'state', state).pexpire(link, retentionMs).exec(),
    );
  }

  /** The clinician removed the link's participant: the link lets nobody in again. */
  async remove(callId: string, linkId: string): Promise<void> {
    const { link } = this.keys(callId, linkId);
    await this.run(() => this.redis.multi().hset(link, 'removed', '1').pexpire(link, retentionMs).exec());
  }

  /** The call ends: no token for it opens anything again, on any node. */
  async end(callId: string): Promise<void> {
    const { call, alive } = this.keys(callId);
    await this.run(() =>
      this.redis.multi().hset(call, 'state', 'ended').pexpire(call, retentionMs).del(alive).exec(),
    );
  }

  /**
   * Someone is connected to the call: it is not idle for another idle time. False when the call is
   * over (ended on another node, say): nothing is kept alive then.
   */
  async keepAlive(ref: CallRef): Promise<boolean> {
    const { call, alive } = this.keys(ref.callId);
    const kept = await this.run(() =>
      this.redis.eval(
        keepAliveScript,
        2,
        call,
        alive,
        Math.ceil(this.idleMs),
        retentionMs,
        ref.practiceId,
        ref.consultationId,
      ),
    );
    return kept === 1;
  }

  /** Ends the call if nobody has kept it alive for the idle time; true when it is over (now or before). */
  async endIfIdle(callId: string): Promise<boolean> {
    const { call, alive } = this.keys(callId);
    return (await this.run(() => this.redis.eval(endIfIdleScript, 2, call, alive))) === 1;
  }
}
