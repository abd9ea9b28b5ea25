import assert from 'node:assert/strict';
import { describe, it, mock, type TestContext } from 'node:test';
import { CoalescedRefresh } from '../src/staff/refresh';

/**
 * The dashboard's reloads on live changes, on a clock the test moves: every load is a promise the
 * test settles, so what runs when is exact.
 */
function harness(t: TestContext) {
  mock.timers.enable({ apis: ['setTimeout', 'Date'], now: 0 });
  t.after(() => mock.timers.reset());
  const loads: { resolve: () => void; reject: (error: Error) => void }[] = [];
  const events: string[] = [];
  const refresh = new CoalescedRefresh(
    () =>
      new Promise<void>((resolve, reject) => {
        events.push(`load at ${Date.now()}`);
        loads.push({ resolve, reject });
      }),
    {
      minGapMs: 1000,
      retryMs: 2000,
      maxRetryMs: 5000,
      failed: (error) => events.push(`failed: ${(error as Error).message}`),
      recovered: () => events.push('recovered'),
    },
  );
  // setImmediate is not mocked: it runs once every continuation of a settled load has
  const flush = () => new Promise((resolve) => setImmediate(resolve));
  /** Moves the clock and lets settled loads' continuations run. */
  const advance = async (ms: number) => {
    mock.timers.tick(ms);
    await flush();
  };
  const settle = async (outcome: 'ok' | Error) => {
    const load = loads.shift()!;
    if (outcome === 'ok') load.resolve();
    else load.reject(outcome);
    await flush();
  };
  return { refresh, events, advance, settle };
}

describe('the dashboard reloading what live changes ask for', () => {
  it('loads once more for a burst of changes heard while a load runs, not once for each', async (t) => {
    const { refresh, events, advance, settle } = harness(t);
    refresh.ask();
    await advance(0);
    for (let i = 0; i < 20; i++) refresh.ask();
    await advance(300);
    await settle('ok');
    await advance(700);
    await settle('ok');
    await advance(10_000);
    assert.deepEqual(events, ['load at 0', 'load at 1000']);
  });

  it('starts loads at least a second apart however often changes come, and at once when staff ask', async (t) => {
    const { refresh, events, advance, settle } = harness(t);
    refresh.ask();
    await advance(0);
    await settle('ok');
    refresh.ask();
    await advance(400);
    assert.deepEqual(events, ['load at 0'], 'the next waits out the second');
    await advance(600);
    await settle('ok');
    refresh.ask(true); // a filter chosen, or back to the list
    await advance(0);
    assert.deepEqual(events, ['load at 0', 'load at 1000', 'load at 1000']);
  });

  it('says when a load failed, tries again later each time, and says once when a load succeeds again', async (t) => {
    const { refresh, events, advance, settle } = harness(t);
    refresh.ask();
    await advance(0);
    await settle(new Error('Too many requests'));
    await advance(2000);
    await settle(new Error('Too many requests'));
    await advance(4000);
    await settle(new Error('Too many requests'));
    await advance(5000); // at most maxRetryMs apart
    await settle('ok');
    await advance(60_000);
    assert.deepEqual(events, [
      'load at 0',
      'failed: Too many requests',
      'load at 2000',
      'failed: Too many requests',
      'load at 6000',
      'failed: Too many requests',
      'load at 11000',
      'recovered',
    ]);
  });

  it('stops trying when stopped (signed out)', async (t) => {
    const { refresh, events, advance, settle } = harness(t);
    refresh.ask();
    await advance(0);
    refresh.stop();
    await settle(new Error('no answer'));
    await advance(60_000);
    assert.deepEqual(events, ['load at 0', 'failed: no answer']);
  });
});
