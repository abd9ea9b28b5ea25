import assert from 'node:assert/strict';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { Redis } from 'ioredis';
import { Server } from 'socket.io';
import { io } from 'socket.io-client';
import { callNodeKeyPrefix, type CallNodeStatus } from '@gpc/contracts';
import { StaffLive } from '@gpc/contracts/staff-live';
import { freePort, startTriage, waitFor } from '@gpc/test-support';
import { redisCallNodes } from '../src/call-nodes';
import { EmbeddingOrigins } from '../src/embedding';
import { createStaticServer } from '../src/static-app';
import { builtPages, startStaticServer } from './support/static';

/** The status of a GET of `path` exactly as written (fetch would tidy away its `..`). */
function statusOf(base: string, path: string): Promise<number> {
  const { hostname, port } = new URL(base);
  return new Promise((resolve, reject) => {
    request({ host: hostname, port, path }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    })
      .on('error', reject)
      .end();
  });
}

/** A CSP header as its directives, by name. */
function directives(header: string | null): Map<string, string[]> {
  assert.ok(header, 'a Content-Security-Policy header');
  return new Map(
    header.split(';').map((part) => {
      const [name = '', ...values] = part.trim().split(/\s+/);
      return [name, values];
    }),
  );
}

describe('the production web server (built pages) and its security headers, with the real triage behind it', async () => {
  const {
    as,
    practiceA,
    practiceB,
    url: triageUrl,
    ...triage
  } = await startTriage({ after }, { listen: true, live: {} });
  const web = await startStaticServer({ triageUrl });
  triage.after(() => web.close());
  const riverside = 'https://www.riverside-surgery.example';
  const patch = await as(practiceA, 'admin').inject({
    method: 'PATCH',
    url: '/practice',
    payload: { websiteOrigins: [riverside, 'http://localhost:8080'] },
  });
  assert.equal(patch.statusCode, 200, patch.body);

  it('serves every page with a CSP that allows no inline script or style and no eval, and frames by nobody', async () => {
    // every page the build has, so a page added later is checked without anyone listing it here
    const pages = (await readdir(await builtPages())).filter((file) => file.endsWith('.html'));
    assert.ok(pages.includes('form.html') && pages.includes('call.html') && pages.length >= 8, pages.join());
    for (const page of pages) {
      const response = await fetch(`${web.url}${page}`);
      assert.equal(response.status, 200, page);
      assert.match(response.headers.get('content-type') ?? '', /^text\/html/);
      const header = response.headers.get('content-security-policy');
      assert.doesNotMatch(header ?? '', /unsafe-inline|unsafe-eval|unsafe-hashes|nonce-|sha256-/, page);
      const csp = directives(header);
      assert.deepEqual(csp.get('script-src'), ["'self'"], page);
      assert.deepEqual(csp.get('style-src'), ["'self'"], page);
      assert.deepEqual(csp.get('default-src'), ["'self'"], page);
      assert.deepEqual(csp.get('object-src'), ["'none'"], page);
      assert.deepEqual(csp.get('base-uri'), ["'none'"], page);
      assert.deepEqual(csp.get('frame-ancestors'), ["'none'"], `${page} without a practice`);
      assert.equal(response.headers.get('x-content-type-options'), 'nosniff', page);
      assert.equal(response.headers.get('referrer-policy'), 'no-referrer', page);
      assert.equal(response.headers.get('strict-transport-security'), null, 'no HSTS over plain http');
      const permissions = response.headers.get('permissions-policy') ?? '';
      const calls = page === 'call.html' || page === 'clinician.html';
      assert.match(permissions, calls ? /camera=\(self\)/ : /camera=\(\)/, page);
      assert.match(permissions, calls ? /microphone=\(self\)/ : /microphone=\(\)/, page);
      assert.match(permissions, /geolocation=\(\)/, page);
      const sharing = page === 'clinician.html';
      assert.match(permissions, sharing ? /display-capture=\(self\)/ : /display-capture=\(\)/, page);
    }
    // the landing page at / is index.html, with the same policy
    const root = await fetch(web.url);
    assert.deepEqual(directives(root.headers.get('content-security-policy')).get('frame-ancestors'), [
      "'none'",
    ]);
  });

  it('lets only the practice’s own website origins (and our own widget demo) frame its form', async () => {
    const frameAncestors = async (query: string) =>
      directives((await fetch(`${web.url}form.html${query}`)).headers.get('content-security-policy')).get(
        'frame-ancestors',
      );
    assert.deepEqual(await frameAncestors('?practice=A81001'), [
      "'self'",
      riverside,
      'http://localhost:8080',
    ]);
    assert.deepEqual(await frameAncestors('?practice=a81001'), [
      "'self'",
      riverside,
      'http://localhost:8080',
    ]);
    assert.deepEqual(await frameAncestors('?practice=B82002'), ["'none'"], 'a practice with no websites');
    assert.deepEqual(await frameAncestors('?practice=Z99999'), ["'none'"], 'no such practice');
    assert.deepEqual(await frameAncestors('?practice=A81001%20https://evil.example'), ["'none'"]);
    assert.deepEqual(await frameAncestors(''), ["'none'"], 'no practice');
    // every other page stays unframeable whatever it is asked for
    const thread = await fetch(`${web.url}thread.html?practice=A81001`);
    assert.deepEqual(directives(thread.headers.get('content-security-policy')).get('frame-ancestors'), [
      "'none'",
    ]);
    void practiceB;
  });

  it('fails closed: with triage not answering, the form is framed by nobody', async () => {
    const offline = await startStaticServer({
      triageUrl: 'http://127.0.0.1:9',
      embedding: new EmbeddingOrigins({ triageUrl: 'http://127.0.0.1:9', timeoutMs: 500 }),
    });
    try {
      const response = await fetch(`${offline.url}form.html?practice=A81001`);
      assert.equal(response.status, 200);
      assert.deepEqual(directives(response.headers.get('content-security-policy')).get('frame-ancestors'), [
        "'none'",
      ]);
    } finally {
      await offline.close();
    }
  });

  it('picks up a change of the practice’s websites once its short cache runs out', async () => {
    let clock = 0;
    const server = await startStaticServer({
      triageUrl,
      embedding: new EmbeddingOrigins({ triageUrl, ttlMs: 1000, now: () => clock }),
    });
    try {
      const frameAncestors = async () =>
        directives(
          (await fetch(`${server.url}form.html?practice=B82002`)).headers.get('content-security-policy'),
        ).get('frame-ancestors');
      assert.deepEqual(await frameAncestors(), ["'none'"]);
      const changed = await as(practiceB, 'admin').inject({
        method: 'PATCH',
        url: '/practice',
        payload: { websiteOrigins: ['https://www.b-practice.example'] },
      });
      assert.equal(changed.statusCode, 200);
      assert.deepEqual(await frameAncestors(), ["'none'"], 'cached');
      clock = 1001;
      assert.deepEqual(await frameAncestors(), ["'self'", 'https://www.b-practice.example']);
    } finally {
      await server.close();
    }
  });

  it('sends HSTS and upgrades insecure requests when it is reached over https', async () => {
    const secure = await startStaticServer({ triageUrl, publicUrl: 'https://consult.example.nhs.uk' });
    try {
      const response = await fetch(`${secure.url}staff.html`);
      assert.equal(response.headers.get('strict-transport-security'), 'max-age=31536000; includeSubDomains');
      assert.ok(directives(response.headers.get('content-security-policy')).has('upgrade-insecure-requests'));
    } finally {
      await secure.close();
    }
  });

  it('passes /api on to triage, and serves scripts, styles and the widget with nosniff', async () => {
    const embedding = await fetch(`${web.url}api/practices/A81001/embedding`);
    assert.equal(embedding.status, 200);
    assert.deepEqual(await embedding.json(), { websiteOrigins: [riverside, 'http://localhost:8080'] });
    const widget = await fetch(`${web.url}widget.js`);
    assert.equal(widget.status, 200);
    assert.match(widget.headers.get('content-type') ?? '', /^text\/javascript/);
    assert.equal(widget.headers.get('x-content-type-options'), 'nosniff');
    const html = await (await fetch(`${web.url}staff.html`)).text();
    const script = /<script type="module" crossorigin src="(\/assets\/[^"]+\.js)"/.exec(html)?.[1];
    assert.ok(script, 'the page loads its bundle');
    const bundle = await fetch(new URL(script, web.url));
    assert.equal(bundle.status, 200);
    assert.match(bundle.headers.get('cache-control') ?? '', /immutable/);
  });

  it('passes the staff live feed’s WebSocket on to triage', async () => {
    const socket = io(`${web.url.replace(/\/$/, '')}${StaffLive.namespace}`, {
      path: StaffLive.path,
      transports: ['websocket'],
      auth: { token: as(practiceA, 'clinician').token },
      reconnection: false,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        socket.once('connect', resolve);
        socket.once('connect_error', reject);
      });
      assert.equal(socket.io.engine.transport.name, 'websocket');
    } finally {
      socket.close();
    }
  });

  it('answers the orchestrators’ probes: live and ready with its build, live and not ready without one', async () => {
    const live = await fetch(`${web.url}healthz`);
    assert.equal(live.status, 200);
    assert.deepEqual(await live.json(), { status: 'live' });
    const ready = await fetch(`${web.url}readyz`);
    assert.equal(ready.status, 200);
    assert.deepEqual(await ready.json(), { status: 'ready' });
    const empty = await mkdtemp(path.join(tmpdir(), 'gpc-web-empty-'));
    const server = createStaticServer({
      distDir: empty,
      triageUrl,
      signallingUrl: triageUrl,
      publicUrl: web.url,
    });
    try {
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      assert.equal((await fetch(`${base}healthz`)).status, 200);
      const notReady = await fetch(`${base}readyz`);
      assert.equal(notReady.status, 503);
      assert.equal(((await notReady.json()) as { code: string }).code, 'unavailable');
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await rm(empty, { recursive: true, force: true });
    }
  });

  it('serves nothing outside the build, whatever the path', async () => {
    for (const attempt of [
      '/../package.json',
      '/%2e%2e/package.json',
      '/..%2fvite.config.ts',
      '/assets/',
      '/%00',
    ]) {
      assert.equal(await statusOf(web.url, attempt), 404, attempt);
    }
    const posted = await fetch(`${web.url}index.html`, { method: 'POST' });
    assert.equal(posted.status, 405);
  });

  it('routes /call-node/<id>/socket.io only to the address a live call node announced under that id, and nothing else there', async () => {
    const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
    const redis = new Redis(redisUrl);
    const cleanups: (() => unknown)[] = [() => redis.disconnect()];
    // a call node's signalling (socket.io at its root, as signalling serves it)
    const nodeHttp = createServer((_request, response) => response.writeHead(200).end('not for the pages'));
    const nodeIo = new Server(nodeHttp);
    nodeIo.on('connection', (socket) => socket.emit('hello', 'from the node'));
    await new Promise<void>((resolve) => nodeHttp.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => nodeIo.close());
    const internalUrl = `http://127.0.0.1:${(nodeHttp.address() as AddressInfo).port}`;
    const id = `test-node-${randomUUID()}`;
    try {
      const announce = (key: string, status: Partial<CallNodeStatus>) =>
        redis.set(
          callNodeKeyPrefix + key,
          JSON.stringify({
            ...{ id: key, url: `${web.url}call-node/${key}`, internalUrl, calls: 0, rooms: 0 },
            ...{ peers: 0, consumers: 0, cpu: 0, draining: false, at: Date.now() },
            ...status,
          }),
          'PX',
          60_000,
        );
      await announce(id, {});
      // a key whose status names another node, and one announcing an address with a path: neither is routed
      const impostor = `test-node-${randomUUID()}`;
      await announce(impostor, { id });
      const withPath = `test-node-${randomUUID()}`;
      await announce(withPath, { internalUrl: `${internalUrl}/elsewhere` });
      cleanups.push(() => redis.del(...[id, impostor, withPath].map((key) => callNodeKeyPrefix + key)));

      const callNodes = redisCallNodes(redisUrl);
      cleanups.push(() => callNodes.close());
      const routed = await startStaticServer({ triageUrl, callNodes });
      cleanups.push(() => routed.close());
      const base = routed.url.replace(/\/$/, '');

      for (const transports of [['websocket'], ['polling']]) {
        const socket = io(base, { path: `/call-node/${id}/socket.io`, transports, reconnection: false });
        try {
          const hello = await new Promise<unknown>((resolve, reject) => {
            socket.once('hello', resolve);
            socket.once('connect_error', reject);
          });
          assert.equal(hello, 'from the node', `through ${transports[0]}`);
        } finally {
          socket.close();
        }
      }

      const refused = [
        `/call-node/${randomUUID()}/socket.io/?EIO=4&transport=polling`, // no node announced this id
        `/call-node/${impostor}/socket.io/?EIO=4&transport=polling`,
        `/call-node/${withPath}/socket.io/?EIO=4&transport=polling`,
        `/call-node/${id}/healthz`, // only its socket.io
        `/call-node/${id}/metrics`,
        `/call-node/${id}/internal/call-events`,
        `/call-node/${id}/socket.io/../healthz`,
        `/call-node/127.0.0.1:6379/socket.io/?EIO=4&transport=polling`,
        `/call-node//socket.io/?EIO=4&transport=polling`,
        `/call-node/${id}`,
      ];
      for (const attempt of refused) assert.equal(await statusOf(routed.url, attempt), 404, attempt);
      // the server without Redis routes no call node at all
      assert.equal(await statusOf(web.url, `/call-node/${id}/socket.io/?EIO=4&transport=polling`), 404);

      // a node whose process is gone (nothing listens where it announced itself) is withdrawn at once
      const gone = `test-node-${randomUUID()}`;
      cleanups.push(() => redis.del(callNodeKeyPrefix + gone));
      await announce(gone, { internalUrl: `http://127.0.0.1:${await freePort()}` });
      assert.equal(await statusOf(routed.url, `/call-node/${gone}/socket.io/?EIO=4&transport=polling`), 502);
      await waitFor(
        'the gone node’s announcement to be withdrawn',
        async () => (await redis.exists(callNodeKeyPrefix + gone)) === 0,
      );
      assert.equal(await redis.exists(callNodeKeyPrefix + id), 1, 'a node that answers stays announced');

      const upgrade = io(base, {
        path: `/call-node/${randomUUID()}/socket.io`,
        transports: ['websocket'],
        reconnection: false,
      });
      try {
        await assert.rejects(
          new Promise((resolve, reject) => {
            upgrade.once('connect', () => resolve('connected'));
            upgrade.once('connect_error', reject);
          }),
          'no WebSocket to a node nobody announced',
        );
      } finally {
        upgrade.close();
      }
    } finally {
      for (const cleanup of cleanups.reverse()) await cleanup();
    }
  });
});
