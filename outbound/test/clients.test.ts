import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import axios from 'axios';
import {
  findRefusal,
  guardedAxiosConfig,
  guardedDispatcher,
  guardedSmtpSocket,
  strictOutbound,
} from '../src/index';

const dev = { allowLoopbackHttp: true };

describe('the outbound guard plugged into fetch, axios and raw sockets (a real server on 127.0.0.1)', async () => {
  let connections = 0;
  const server = createServer((_request, response) => response.end('hello'));
  server.on('connection', () => connections++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));
  const port = (server.address() as AddressInfo).port;

  /** What a refused attempt threw: the guard's refusal, found inside the client's own error. */
  async function refusedBy(attempt: () => Promise<unknown>): Promise<string | undefined> {
    const before = connections;
    try {
      await attempt();
    } catch (error) {
      assert.equal(connections, before, 'nothing connected');
      return findRefusal(error)?.reason ?? `not the guard: ${String(error)}`;
    }
    return undefined;
  }

  it('fetch: refuses loopback by literal and by name (the lookup the socket uses), and plain http, unless allowed', async () => {
    const strict = guardedDispatcher(strictOutbound);
    const get = (url: string, dispatcher = strict) =>
      fetch(url, { dispatcher, redirect: 'manual' } as RequestInit);
    assert.equal(await refusedBy(() => get(`https://127.0.0.1:${port}/`)), 'loopback');
    assert.equal(await refusedBy(() => get(`https://[::ffff:127.0.0.1]:${port}/`)), 'loopback');
    assert.equal(await refusedBy(() => get(`https://localhost:${port}/`)), 'loopback');
    assert.equal(await refusedBy(() => get(`http://127.0.0.1:${port}/`)), 'loopback');
    assert.equal(await refusedBy(() => get('https://10.0.0.1/')), 'private');
    assert.equal(await refusedBy(() => get('http://169.254.169.254/latest/meta-data/')), 'metadata');
    const allowed = guardedDispatcher(dev);
    assert.equal(await refusedBy(() => get('http://169.254.169.254/', allowed)), 'metadata');
    assert.equal(await (await get(`http://127.0.0.1:${port}/`, allowed)).text(), 'hello');
    assert.equal(await (await get(`http://localhost:${port}/`, allowed)).text(), 'hello');
  });

  it('axios: the same refusals through its http and https agents', async () => {
    const client = axios.create({ ...guardedAxiosConfig(strictOutbound), timeout: 5000 });
    assert.equal(await refusedBy(() => client.get(`https://127.0.0.1:${port}/`)), 'loopback');
    assert.equal(await refusedBy(() => client.get(`https://localhost:${port}/`)), 'loopback');
    assert.equal(await refusedBy(() => client.get(`http://127.0.0.1:${port}/`)), 'loopback');
    assert.equal(await refusedBy(() => client.get('https://10.0.0.1/')), 'private');
    assert.equal(await refusedBy(() => client.get('https://169.254.169.254/')), 'metadata');
    const allowed = axios.create({ ...guardedAxiosConfig(dev), timeout: 5000 });
    assert.equal((await allowed.get<string>(`http://127.0.0.1:${port}/`)).data, 'hello');
    assert.equal(await refusedBy(() => allowed.get('http://10.0.0.1/')), 'private');
  });

  it('raw sockets for SMTP: refused by literal and by name, connected when allowed', async () => {
    const open = (host: string, policy = strictOutbound) =>
      new Promise((resolve, reject) =>
        guardedSmtpSocket(policy, { plain: true, timeoutMs: 5000 })({ host, port }, (error, socket) => {
          if (error) return reject(error);
          socket?.connection.destroy();
          resolve(socket);
        }),
      );
    assert.equal(await refusedBy(() => open('127.0.0.1')), 'loopback');
    assert.equal(await refusedBy(() => open('localhost')), 'loopback');
    assert.equal(await refusedBy(() => open('10.0.0.1', dev)), 'private');
    assert.equal(await refusedBy(() => open('169.254.169.254', dev)), 'metadata');
    const before = connections;
    await open('127.0.0.1', dev);
    assert.equal(connections, before + 1);
  });
});
