import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { defaultAdaptationSettings, layersFor, nextCap, noCap } from '../src/adaptation';

const settings = defaultAdaptationSettings;
const congested = (congestedKbps: number, loss = 0.3) => ({ loss, congestedKbps });
const clear = (loss = 0) => ({ loss, congestedKbps: 30 });

describe('adaptation: layers and caps from what a path carries', () => {
  it('takes the highest simulcast layer that fits, and fewer frames of the lowest below it', () => {
    const costs = [100, 300, 900];
    assert.deepEqual(layersFor(costs, 1000), { spatialLayer: 2, temporalLayer: 2 });
    assert.deepEqual(layersFor(costs, 350), { spatialLayer: 1, temporalLayer: 2 });
    assert.deepEqual(layersFor(costs, 70), { spatialLayer: 0, temporalLayer: 1 });
    assert.deepEqual(layersFor(costs, 20), { spatialLayer: 0, temporalLayer: 0 });
  });

  it('caps a path the moment it loses packets, and lowers the cap but never raises it while the loss goes on', () => {
    const cap = noCap(settings);
    assert.equal(nextCap(cap, clear(), 0, settings), undefined, 'a clear path is not capped');
    assert.equal(nextCap(cap, clear(0.05), 1000, settings), undefined, 'some loss is not congestion');
    assert.equal(nextCap(cap, congested(80), 2000, settings), 80);
    assert.equal(nextCap(cap, congested(60, 0.4), 3000, settings), 60, 'lower at once');
    assert.equal(nextCap(cap, congested(90, 0.38), 4000, settings), undefined, 'not higher while congested');
    assert.equal(cap.kbps, 60);
  });

  it('never caps under the worker’s floor of 30 kbps', () => {
    const cap = noCap(settings);
    assert.equal(nextCap(cap, congested(5), 0, settings), 30);
  });

  it('raises a cap step by step once the path is clear, and lifts it past the top', () => {
    const cap = noCap(settings);
    nextCap(cap, congested(100), 0, settings);
    assert.equal(nextCap(cap, clear(), 1000, settings), undefined, 'clear from now');
    assert.equal(nextCap(cap, clear(0.001), 1500, settings), undefined, 'not clear long enough');
    assert.equal(nextCap(cap, clear(0.002), 2000, settings), 150);
    let now = 2000;
    let raised: number | undefined = 150;
    const steps: number[] = [];
    while (raised !== 0 && steps.length < 20) {
      now += 1000;
      raised = nextCap(cap, clear(now / 1e9), now, settings);
      if (raised !== undefined) steps.push(raised);
    }
    assert.equal(steps.at(-1), 0, `lifted in the end (steps ${steps.join(', ')})`);
    assert.ok(
      steps.slice(0, -1).every((step, index, all) => index === 0 || step > all[index - 1]!),
      'each step higher',
    );
    assert.equal(cap.kbps, undefined);
  });

  it('counts a reading with the same loss as the last as no news, so a path with nothing measured on it is tried again', () => {
    const cap = noCap(settings);
    nextCap(cap, congested(30, 0.4), 0, settings);
    // video off: nothing carries transport-cc, the worker's loss stays where it was
    assert.equal(nextCap(cap, congested(30, 0.4), 1000, settings), undefined);
    assert.equal(nextCap(cap, congested(30, 0.4), 2000, settings), 45);
  });

  it('takes a loss that keeps falling after a spell of losses for a clear path: the worker’s average lags', () => {
    const cap = noCap(settings);
    nextCap(cap, congested(30, 0.45), 0, settings);
    assert.equal(nextCap(cap, congested(30, 0.39), 1000, settings), undefined, 'falling: clear from now');
    assert.equal(
      nextCap(cap, congested(30, 0.33), 2000, settings),
      45,
      'still falling a second later: raised',
    );
    assert.equal(
      nextCap(cap, congested(30, 0.34), 3000, settings),
      30,
      'rising again over the mark: congested',
    );
  });

  it('on a path whose feedback never thins out, raises only once the loss is under the mark, falling or not', () => {
    const cap = noCap(settings);
    nextCap(cap, congested(80, 0.5), 0, settings, false);
    assert.equal(nextCap(cap, congested(80, 0.3), 1000, settings, false), undefined);
    assert.equal(
      nextCap(cap, congested(80, 0.22), 2000, settings, false),
      undefined,
      'falling, still losses',
    );
    assert.equal(
      nextCap(cap, clear(0.15), 3000, settings, false),
      undefined,
      'under the mark and falling: clear from now',
    );
    assert.equal(nextCap(cap, clear(0.1), 4000, settings, false), 120);
  });

  it('waits twice as long before the next raise when a raise brought the losses back', () => {
    const cap = noCap(settings);
    nextCap(cap, congested(60), 0, settings);
    nextCap(cap, clear(), 1000, settings);
    assert.equal(nextCap(cap, clear(0.001), 2000, settings), 90);
    assert.equal(nextCap(cap, congested(60, 0.2), 3000, settings), 60, 'the raise did not fit');
    nextCap(cap, clear(), 4000, settings);
    assert.equal(nextCap(cap, clear(0.001), 5000, settings), undefined, 'a second is no longer enough');
    assert.equal(nextCap(cap, clear(0.002), 6000, settings), 90, 'two seconds are');
  });
});
