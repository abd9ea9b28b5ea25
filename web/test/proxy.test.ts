import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { Redis } from 'ioredis';
import { callNodeKeyPrefix } from '@gpc/contracts';
import { startWebServer, type RunningWebServer } from './support/browser';

interface Stub {
  url: string;
  /** Paths of the WebSocket upgrades it accepted. */
  upgrades: string[];
  close(): Promise<void>;
}

/** Answers every request with the path it saw, and completes WebSocket handshakes, noting their paths. */
async function startStub(name: string): Promise<Stub> {
  const upgrades: string[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((request, response) => {
    response.setHeader('content-type', 'application/json');
    response.end(JSON.stringify({ name, path: request.url }));
  });
  server.on('upgrade', (request, socket: Socket) => {
    upgrades.push(request.url ?? '');
    sockets.add(socket);
    const accept = createHash('sha1')
      .update(`${String(request.headers['sec-websocket-key'])}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
      .digest('base64');
    socket.write(
      `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
    );
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    upgrades,
    close: async () => {
      // Upgraded sockets leave the server's bookkeeping, so closeAllConnections() does not end them.
      for (const socket of sockets) socket.destroy();
      server.closeAllConnections();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

void describe('web server proxies', () => {
  let triage: Stub | undefined;
  let signalling: Stub | undefined;
  let web: RunningWebServer | undefined;

  before(async () => {
    [triage, signalling] = await Promise.all([startStub('triage'), startStub('signalling')]);
    web = await startWebServer({ triageUrl: triage.url, signallingUrl: signalling.url });
  });

  after(async () => {
    await web?.close();
    await Promise.all([triage?.close(), signalling?.close()]);
  });

  void it('passes /api requests to triage at its root', async () => {
    assert.ok(web);
    const response = await fetch(new URL('/api/requests?status=new', web.url));
    assert.equal(response.status, 200);
    assert.deepEqual(await response.json(), { name: 'triage', path: '/requests?status=new' });
  });

  void it('passes /socket.io requests and WebSocket upgrades to signalling', async () => {
    assert.ok(web && signalling);
    const response = await fetch(new URL('/socket.io/?EIO=4&transport=polling', web.url));
    assert.deepEqual(await response.json(), {
      name: 'signalling',
      path: '/socket.io/?EIO=4&transport=polling',
    });

    const socket = new WebSocket(
      new URL('/socket.io/?EIO=4&transport=websocket', web.url.replace(/^http/, 'ws')),
    );
    await once(socket, 'open');
    socket.close();
    assert.deepEqual(signalling.upgrades, ['/socket.io/?EIO=4&transport=websocket']);
  });

  void it('answers 404 for a page that does not exist, rather than the landing page', async () => {
    assert.ok(web);
    const response = await fetch(new URL('/no-such-page', web.url));
    assert.equal(response.status, 404);
  });

  void it('passes /call-node/<id>/socket.io (requests and WebSocket upgrades) to the call node announced in Redis under that id, and nothing else', async () => {
    const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const redis = new Redis(redisUrl);
    const node = await startStub('call node');
    const id = `dev-node-${randomUUID()}`;
    const routed = await startWebServer({ redisUrl, signallingUrl: 'http://127.0.0.1:9' });
    try {
      const status = { id, url: `${routed.url}call-node/${id}`, internalUrl: node.url, calls: 0, rooms: 0 };
      await redis.set(
        callNodeKeyPrefix + id,
        JSON.stringify({ ...status, peers: 0, consumers: 0, cpu: 0, draining: false, at: Date.now() }),
        'PX',
        60_000,
      );
      const response = await fetch(
        new URL(`/call-node/${id}/socket.io/?EIO=4&transport=polling`, routed.url),
      );
      assert.deepEqual(await response.json(), {
        name: 'call node',
        path: '/socket.io/?EIO=4&transport=polling',
      });
      const socket = new WebSocket(
        new URL(`/call-node/${id}/socket.io/?EIO=4&transport=websocket`, routed.url.replace(/^http/, 'ws')),
      );
      await once(socket, 'open');
      socket.close();
      assert.deepEqual(node.upgrades, ['/socket.io/?EIO=4&transport=websocket']);
      for (const refused of [`/call-node/${randomUUID()}/socket.io/`, `/call-node/${id}/health`])
        assert.equal((await fetch(new URL(refused, routed.url))).status, 404, refused);
    } finally {
      await redis.del(callNodeKeyPrefix + id);
      redis.disconnect();
      await routed.close();
      await node.close();
    }
  });
});
