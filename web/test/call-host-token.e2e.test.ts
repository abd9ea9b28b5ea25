import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { waitFor } from '@gpc/test-support';
import { admittedCall, mediaFlows, startCallWorld } from './support/call';

describe('the clinician’s call page when triage cannot give it a fresh host token for a while, in Chromium', async () => {
  const world = await startCallWorld({ after });
  const { browser } = world;

  it('keeps the clinician in the call through a reconnect while triage refuses host tokens, instead of ending it as expired', async () => {
    const { clinician } = await admittedCall(world, { clinician: browser, patient: browser });
    await mediaFlows(clinician, 'clinician before', 20_000);

    // triage busy or restarting: every host token asked for meanwhile gets a 503
    let refused = 0;
    await clinician.route('**/api/calls/*/host-token', (route) => {
      refused++;
      return route.fulfill({
        status: 503,
        contentType: 'application/json',
        body: JSON.stringify({ code: 'unavailable', message: 'Try again shortly' }),
      });
    });
    // the connection to the call node drops (a network change): socket.io reconnects by itself,
    // asking the page for a fresh token each time
    await clinician.evaluate(() =>
      (
        window.__call as unknown as { socket: { io: { engine: { close(): void } } } }
      ).socket.io.engine.close(),
    );
    await waitFor('the page to ask for host tokens and be refused twice', () => refused >= 2, {
      timeoutMs: 20_000,
    });
    const meanwhile = await clinician.evaluate(() => window.__call?.currentState);
    assert.notEqual(meanwhile, 'expired', 'a refused token request is not the end of the call');
    assert.equal(await clinician.locator('#step-expired').isVisible(), false);

    await clinician.unroute('**/api/calls/*/host-token');
    await clinician.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, {
      timeout: 30_000,
    });
    await mediaFlows(clinician, 'clinician after triage answers again', 20_000);
    assert.equal(await clinician.getByRole('button', { name: 'Admit Pat Example' }).count(), 0);
  });
});
