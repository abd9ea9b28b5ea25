import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runEvery } from '../src/periodic';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('runEvery', () => {
  it('runs again and again, never two at once, and carries on after a failure', async () => {
    let running = 0;
    let most = 0;
    let runs = 0;
    const errors: unknown[] = [];
    const periodic = runEvery(
      5,
      async () => {
        runs++;
        running++;
        most = Math.max(most, running);
        await sleep(20); // longer than the interval
        running--;
        if (runs === 1) throw new Error('first run fails');
      },
      (error) => errors.push(error),
    );
    await sleep(120);
    await periodic.stop();
    assert.ok(runs >= 3, `ran ${runs} times`);
    assert.equal(most, 1, 'never two runs at once');
    assert.equal(errors.length, 1);
    assert.equal(running, 0, 'stop waited for the run in progress');
    const after = runs;
    await sleep(30);
    assert.equal(runs, after, 'nothing runs after stop');
  });

  it('runs nothing with an interval of 0', async () => {
    let runs = 0;
    const periodic = runEvery(
      0,
      () => Promise.resolve(runs++),
      () => undefined,
    );
    await sleep(20);
    await periodic.stop();
    assert.equal(runs, 0);
  });
});
