import assert from 'node:assert/strict';
import { once } from 'node:events';
import { after, describe, it } from 'node:test';
import { startCallNode } from './support/call-node';

/**
 * The call node's `/readyz` with its media workers: not ready, naming them, while it has no live
 * mediasoup worker, and ready again once the pool has replaced them (contracts/src/rest/readiness.ts).
 */
describe('signalling readiness and its media workers (real mediasoup workers)', () => {
  it('says not ready, naming its media workers, and not live while every worker is dead, and ready once they are replaced', async () => {
    const node = await startCallNode({ workers: 2 });
    after(() => node.close());
    const readiness = async () => {
      const response = await node.app.http.inject({ method: 'GET', url: '/readyz' });
      return { status: response.statusCode, body: response.json<{ down?: string[]; status?: string }>() };
    };
    // ready once the node's Redis has answered
    for (let tries = 0; (await readiness()).status !== 200; tries++) {
      assert.ok(tries < 50, 'ready before the workers die');
      await new Promise((resolve) => setTimeout(resolve, 100));
    }

    const workers = [...node.media.workers];
    assert.equal(workers.length, 2);
    const replaced = new Promise<void>((resolve) => {
      let count = 0;
      node.media.on('workerReplaced', () => ++count === workers.length && resolve());
    });
    // heard after the pool's own listener, which has emptied the slot and is starting a replacement
    const allDied = Promise.all(workers.map(({ worker }) => once(worker, 'died')));
    for (const { worker } of workers) process.kill(worker.pid, 'SIGKILL');
    await allDied;
    const whileDead = await readiness();
    assert.equal(whileDead.status, 503);
    assert.deepEqual(whileDead.body.down, ['mediaWorkers']);
    // and not live: the liveness probe (/healthz) would restart a node left without workers
    assert.equal((await node.app.http.inject({ method: 'GET', url: '/healthz' })).statusCode, 503);

    await replaced;
    const back = await readiness();
    assert.equal(back.status, 200, JSON.stringify(back.body));
    assert.equal(back.body.status, 'ready');
    assert.equal((await node.app.http.inject({ method: 'GET', url: '/healthz' })).statusCode, 200);
    assert.equal(node.media.workers.length, 2);
  });
});
