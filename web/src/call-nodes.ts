// The site's routes to its call nodes: a page opens socket.io at `/call-node/<id>/socket.io` on its
// own origin (so the Content-Security-Policy's `connect-src 'self'` holds), and the web server passes
// it on to the address that node announced in Redis under that id (contracts/src/call/placement.ts).
// Nothing else is routed: an id of another shape, an id no live node announced, or any path but its
// socket.io is refused, so this is no open proxy.
import { Redis } from 'ioredis';
import {
  callNodeIdPattern,
  callNodeKeyPrefix,
  callNodePathPrefix,
  parseCallNodeStatus,
} from '@gpc/contracts';

const nodeId = new RegExp(callNodeIdPattern);

/** `/call-node/<id>/socket.io[/...]`: the node's id and the path on the node; undefined for anything else. */
export function callNodeRoute(pathname: string): { nodeId: string; path: string } | undefined {
  if (!pathname.startsWith(callNodePathPrefix)) return undefined;
  const rest = pathname.slice(callNodePathPrefix.length);
  const slash = rest.indexOf('/');
  if (slash < 0) return undefined;
  const [id, path] = [rest.slice(0, slash), rest.slice(slash)];
  if (!nodeId.test(id)) return undefined;
  if (path !== '/socket.io' && !path.startsWith('/socket.io/')) return undefined;
  return { nodeId: id, path };
}

/** Where a call node announced it can be reached, by its id; undefined when no live node has that id. */
export interface CallNodeDirectory {
  internalUrl(nodeId: string): Promise<URL | undefined>;
  /**
   * The node refused a connection at the address it announced (its process is gone: killed, or
   * crashed): its announcement is withdrawn at once, if it is still the one routed by, rather than
   * left to expire, so its calls are placed on another node within a page's next question. A node
   * that is alive announces itself again with its next heartbeat (2 s).
   */
  refused(nodeId: string): void;
  close(): void;
}

/** Deletes a node's status only if it is still the text read (no heartbeat since: a live node's changes each time). */
const withdrawIfUnchanged = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;

/** Did a connection fail because nothing listens at the address (not a timeout, not a reset)? */
export const isRefused = (error: unknown): boolean =>
  (error as NodeJS.ErrnoException | undefined)?.code === 'ECONNREFUSED';

/** How long an answer is kept: the pages' polling asks many times a second; a node's key lives 6 s. */
const cacheMs = 1000;

/**
 * The call nodes announced in this Redis (`WEB_REDIS_URL`). A Redis that does not answer within a
 * second fails the lookup (503) (the page's socket.io tries again), never routes elsewhere.
 */
export function redisCallNodes(redisUrl: string): CallNodeDirectory {
  const redis = new Redis(redisUrl, {
    // a lookup made while it connects waits for it (at most the command timeout)
    maxRetriesPerRequest: 0,
    commandTimeout: 1000,
    retryStrategy: (attempt) => Math.min(attempt * 200, 2000),
  });
  let down = false;
  redis.on('error', (error: Error) => {
    if (!down)
      process.stderr.write(`web: Redis unreachable, call nodes cannot be routed: ${error.message}\n`);
    down = true;
  });
  redis.on('ready', () => (down = false));
  const cache = new Map<string, { url: URL | undefined; text: string | null; until: number }>();
  return {
    async internalUrl(id) {
      if (!nodeId.test(id)) return undefined;
      const now = Date.now();
      const cached = cache.get(id);
      if (cached && cached.until > now) return cached.url;
      const text = await redis.get(callNodeKeyPrefix + id);
      const status = parseCallNodeStatus(text);
      let url: URL | undefined;
      if (status && status.id === id && status.internalUrl) {
        const parsed = new URL(status.internalUrl);
        if (parsed.protocol === 'http:' && !parsed.username && !parsed.password) url = parsed;
      }
      if (cache.size > 1000) cache.clear();
      cache.set(id, { url, text, until: now + cacheMs });
      return url;
    },
    refused(id) {
      const routedBy = cache.get(id)?.text;
      cache.delete(id);
      if (!routedBy) return;
      redis.eval(withdrawIfUnchanged, 1, callNodeKeyPrefix + id, routedBy).then(
        (withdrawn) => {
          if (withdrawn === 1)
            process.stderr.write(`web: call node ${id} refused connections: its announcement is withdrawn\n`);
        },
        () => undefined, // Redis away: the key expires by itself
      );
    },
    close: () => redis.disconnect(),
  };
}
