// Where each call runs: on the least-loaded live call node when it is made, and again on another
// when its node stops heart-beating (asked on the pages' next join or rejoin). Nodes announce
// themselves in Redis (signalling's node-presence.ts); a call's placement is one key there.
import type { Redis } from 'ioredis';
import {
  AppError,
  callNodeKeyPrefix,
  callNodePlacedKeyPrefix,
  callNodesKey,
  callPlacementKeyPrefix,
  leastLoadedNode,
  parseCallNodeStatus,
  type CallNodeStatus,
  type CallPlacement,
} from '@gpc/contracts';

/** Placements older than this are in the node's reported load by now (a heartbeat is every 2 s). */
const pendingWindowMs = 60_000;
/**
 * A call counts in a node's load once someone has joined it there; until then, its placement counts.
 * Placements this long before the node's last heartbeat still count (the clinician's page may not
 * have joined yet), so calls made in a burst spread, at the price of counting a joined one twice briefly.
 */
const joinGraceMs = 10_000;

/** Sets the placement only if it is still what was read: two pages asking at once agree on one node. */
const swapPlacement = `
local current = redis.call('GET', KEYS[1])
if (current or '') ~= ARGV[1] then return current end
redis.call('SET', KEYS[1], ARGV[2], 'EX', ARGV[3])
return ARGV[2]`;

/** Every call node whose heartbeat is current; nodes whose key expired are forgotten. */
export async function liveCallNodes(redis: Redis): Promise<CallNodeStatus[]> {
  const ids = await redis.smembers(callNodesKey);
  if (ids.length === 0) return [];
  const raw = await redis.mget(ids.map((id) => callNodeKeyPrefix + id));
  const gone = ids.filter((_, i) => raw[i] === null);
  if (gone.length > 0) await redis.srem(callNodesKey, ...gone);
  // what is not a node's status is never placed on
  return raw.flatMap((text) => parseCallNodeStatus(text) ?? []);
}

/**
 * The nodes a site's pages can reach: those announced at a `/call-node/<id>` path of this site
 * (`site`: its public web URL), and those with an origin of their own. A `/call-node/` URL of
 * another site is a node of another deployment sharing the Redis (two `npm start`s on one machine,
 * say), whose tokens it would not take: never placed on.
 */
export function reachableFrom(site: string | undefined, nodes: CallNodeStatus[]): CallNodeStatus[] {
  if (!site) return nodes;
  const ours = `${new URL(site).origin}/call-node/`;
  return nodes.filter(
    (node) => node.url.startsWith(ours) || !new URL(node.url).pathname.startsWith('/call-node/'),
  );
}

/**
 * The node the call lives on: where it is placed while that node is live (draining or not: its
 * calls finish there), otherwise a new placement on the least-loaded live node that takes calls.
 * `ttlSeconds`: how long the placement is kept (the call's links' lifetime); `site`: the public web
 * URL of the site whose pages join (see reachableFrom).
 */
export async function placeCall(
  redis: Redis,
  callId: string,
  ttlSeconds: number,
  site?: string,
): Promise<CallPlacement> {
  const key = callPlacementKeyPrefix + callId;
  for (let attempt = 0; attempt < 3; attempt++) {
    const [live, current] = await Promise.all([liveCallNodes(redis), redis.get(key)]);
    const nodes = reachableFrom(site, live);
    const placed = nodes.find((node) => node.id === current);
    if (placed) return { nodeId: placed.id, nodeUrl: placed.url };
    const pending = await Promise.all(
      nodes.map((node) => redis.zcount(callNodePlacedKeyPrefix + node.id, node.at - joinGraceMs, '+inf')),
    );
    const chosen = leastLoadedNode(nodes, (id) => pending[nodes.findIndex((node) => node.id === id)] ?? 0);
    if (!chosen) throw new AppError('unavailable', 'No call node is taking calls; try again shortly');
    const now = await redis.eval(swapPlacement, 1, key, current ?? '', chosen.id, Math.max(1, ttlSeconds));
    if (now !== chosen.id) continue; // placed by someone else meanwhile: read again
    const placedKey = callNodePlacedKeyPrefix + chosen.id;
    await redis
      .multi()
      .zadd(placedKey, Date.now(), callId)
      .zremrangebyscore(placedKey, '-inf', Date.now() - pendingWindowMs)
      .pexpire(placedKey, pendingWindowMs)
      .exec();
    return { nodeId: chosen.id, nodeUrl: chosen.url };
  }
  throw new AppError('unavailable', 'The call could not be placed; try again shortly');
}
