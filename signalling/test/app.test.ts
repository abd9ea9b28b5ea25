import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { io as connect } from 'socket.io-client';
import { buildSignallingApp } from '../src/app';
import { loadSignallingConfig } from '../src/config';

describe('signalling app', () => {
  it('reports health from the media workers', async () => {
    let workers = 2;
    const app = buildSignallingApp({ media: { status: () => ({ workers }) } });
    const ok = await app.http.inject({ method: 'GET', url: '/health' });
    assert.equal(ok.statusCode, 200);
    assert.deepEqual(ok.json(), { status: 'ok', mediaWorkers: 2 });
    workers = 0;
    const down = await app.http.inject({ method: 'GET', url: '/health' });
    assert.equal(down.statusCode, 503);
    assert.equal(down.json<{ code: string }>().code, 'unavailable');
    await app.close();
  });

  it('accepts socket.io connections on the same port and closes idempotently', async () => {
    const app = buildSignallingApp({ media: { status: () => ({ workers: 1 }) } });
    await app.http.listen({ host: '127.0.0.1', port: 0 });
    const { port } = app.http.server.address() as AddressInfo;
    const socket = connect(`http://127.0.0.1:${port}`, { transports: ['websocket'], reconnection: false });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('connect_error', reject);
    });
    assert.ok(socket.connected);
    socket.disconnect();
    await Promise.all([app.close(), app.close()]);
  });

  it('fails at boot naming a missing or unknown key', () => {
    assert.throws(
      () => loadSignallingConfig({ SIGNALLING_REDIS_URL: 'redis://x' }),
      /SIGNALLING_JWT_SECRET: required/,
    );
    assert.throws(
      () =>
        loadSignallingConfig({
          SIGNALLING_REDIS_URL: 'redis://x',
          SIGNALLING_JWT_SECRET: 'x'.repeat(32),
          SIGNALLING_WORKERS: '2',
        }),
      /SIGNALLING_WORKERS: unknown key/,
    );
  });
});
