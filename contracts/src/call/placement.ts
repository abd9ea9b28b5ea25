// Call nodes announce themselves in Redis (signalling's node-presence.ts) and triage places each
// new call on the least-loaded live one (triage's calls/placement.ts). A node is live while its
// heartbeat key exists: it has a short TTL the node refreshes, so a node that dies drops out by itself.
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';

/** The ids of nodes that have announced themselves (a set); those whose status expired are dropped as read. */
export const callNodesKey = 'gpc:call-nodes';
/** `<prefix><nodeId>`: the node's status (JSON `CallNodeStatus`), expiring unless refreshed. */
export const callNodeKeyPrefix = 'gpc:call-node:';
/** `<prefix><callId>`: the id of the node the call is placed on. */
export const callPlacementKeyPrefix = 'gpc:call-placement:';
/** `<prefix><nodeId>`: calls placed on the node (sorted set, score = when), not yet in its load. */
export const callNodePlacedKeyPrefix = 'gpc:call-node-placed:';

/** How often a node refreshes its heartbeat, and how long the key lives without one. */
export const callNodeHeartbeatMs = 2000;
export const callNodeHeartbeatTtlMs = 6000;

/**
 * What a node id may be: it is a path segment of the pages' `/call-node/<id>/socket.io`, so the web
 * servers route only ids of this shape, and only to the address the node announced under that id.
 */
export const callNodeIdPattern = '^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$';

/** Where the pages reach a node through the site's own web server: `/call-node/<id>`. */
export const callNodePathPrefix = '/call-node/';

export const CallNodeStatus = Type.Object({
  id: Type.String({ minLength: 1, maxLength: 200 }),
  /**
   * The node's public signalling URL: the pages' socket.io connects there (path `<url path>/socket.io`).
   * On one site, `https://<site>/call-node/<id>`, which the site's web server routes to `internalUrl`.
   */
  url: Type.String({ minLength: 1, maxLength: 2000 }),
  /** Where the site's web server reaches the node's signalling (http://<address>:<port>), if it routes to it. */
  internalUrl: Type.Optional(Type.String({ pattern: '^https?://[^/\\s?#]+/?$', maxLength: 300 })),
  /** Calls open on the node (with or without media yet), rooms with media, peers and consumers. */
  calls: Type.Integer({ minimum: 0 }),
  rooms: Type.Integer({ minimum: 0 }),
  peers: Type.Integer({ minimum: 0 }),
  consumers: Type.Integer({ minimum: 0 }),
  /** Share of one core its media workers used since the last heartbeat (0..workers). */
  cpu: Type.Number({ minimum: 0 }),
  /** Draining: takes no new calls, stops when its calls have ended. */
  draining: Type.Boolean(),
  /** When the status was written (ms since the epoch). */
  at: Type.Integer({ minimum: 0 }),
});
export type CallNodeStatus = Static<typeof CallNodeStatus>;

/** A node's status as read from Redis, or undefined when it is not one (never placed on, never routed to). */
export function parseCallNodeStatus(text: string | null): CallNodeStatus | undefined {
  if (text === null) return undefined;
  let status: unknown;
  try {
    status = JSON.parse(text);
  } catch {
    return undefined;
  }
  return Value.Check(CallNodeStatus, status) ? status : undefined;
}

/** Where a call lives, as the pages are told. */
export const CallPlacement = Type.Object({
  nodeId: Type.String(),
  /** The node's public signalling origin. */
  nodeUrl: Type.String(),
});
export type CallPlacement = Static<typeof CallPlacement>;

/**
 * The least-loaded node that takes new calls: fewest calls (those it reports plus those placed on
 * it lately that nobody may have joined yet, `pending`), then fewest consumers, then least CPU, then its id (so
 * the choice is stable). Undefined when no live node takes calls.
 */
export function leastLoadedNode(
  nodes: readonly CallNodeStatus[],
  pending: (nodeId: string) => number = () => 0,
): CallNodeStatus | undefined {
  const load = (n: CallNodeStatus) => [n.calls + pending(n.id), n.consumers, n.cpu] as const;
  let best: CallNodeStatus | undefined;
  for (const node of nodes) {
    if (node.draining) continue;
    if (!best) {
      best = node;
      continue;
    }
    const [a, b] = [load(node), load(best)];
    const order = a[0] - b[0] || a[1] - b[1] || a[2] - b[2] || node.id.localeCompare(best.id);
    if (order < 0) best = node;
  }
  return best;
}
