import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { seedConsultation, startTriage, startTurnServer } from '@gpc/test-support';
import { startCallNode } from '../../signalling/test/support/call-node';
import { launchBrowser, newLocalPage } from './support/browser';
import { dropUdpTo, joinAsPatient, mediaFlows, startCallAsClinician } from './support/call';
import { startStaticServer } from './support/static';

/** The path a page's media took and the selected candidate it was read from (getStats). */
const pathOf = (page: Page) => page.evaluate(() => window.__call?.mediaPath());

describe('calls through the TURN relay (coturn) in Chromium', async () => {
  const triage = await startTriage({ after }, { listen: true });
  const turn = await startTurnServer(triage);
  // the call node hands each participant the relay's three URLs with credentials of their own
  const node = await startCallNode({ jwksUrl: `${triage.url}/.well-known/jwks.json`, turn: turn.turn });
  triage.after(() => node.close());
  // the production build and server, strict CSP included, as the other call tests use
  const web = await startStaticServer({ triageUrl: triage.url, signallingUrl: node.url });
  triage.after(() => web.close());
  // the relay's TLS certificate is self-signed: accepted in this file's browser only
  const browser = await launchBrowser(['--ignore-certificate-errors']);
  triage.after(() => browser.close());

  /** A clinician and their patient in a call, media flowing both ways; `search` goes on both pages. */
  async function call(search: string): Promise<{ clinician: Page; patient: Page }> {
    const clinician = await newLocalPage(browser);
    const patient = await newLocalPage(browser);
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const token = triage.as(triage.practiceA, 'clinician').token;
    const link = await startCallAsClinician(clinician, web.url, token, consultationId, search);
    await joinAsPatient(patient, web.url, link, search);
    // generous waits: media through a relay over TLS on 2 busy cores can take a while to start
    await clinician.getByRole('button', { name: 'Admit Pat Example' }).click({ timeout: 30_000 });
    await patient.locator('#step-call').waitFor({ state: 'visible', timeout: 60_000 });
    await mediaFlows(patient, `patient (${search || 'no relay forced'})`, 60_000);
    await mediaFlows(clinician, `clinician (${search || 'no relay forced'})`, 60_000);
    return { clinician, patient };
  }

  for (const relay of ['udp', 'tcp', 'tls'] as const) {
    it(`carries media both ways through the relay over ${relay.toUpperCase()} when the pages allow only that`, async () => {
      const { clinician, patient } = await call(`?relay=${relay}`);
      for (const [who, page] of [
        ['patient', patient],
        ['clinician', clinician],
      ] as const) {
        const taken = await pathOf(page);
        assert.equal(taken?.candidate.candidateType, 'relay', `${who}: a relayed candidate pair`);
        assert.equal(taken.candidate.relayProtocol, relay, `${who}: reached the relay over ${relay}`);
        assert.equal(taken.path, `relay-${relay}`, `${who}: the path the page reports`);
      }
      await Promise.all([clinician.close(), patient.close()]);
    });
  }

  it("still gets media in a normal call when the media server's UDP port is dropped", async () => {
    const restore = dropUdpTo(node.rtcPort);
    try {
      const { clinician, patient } = await call('');
      for (const [who, page] of [
        ['patient', patient],
        ['clinician', clinician],
      ] as const) {
        const taken = await pathOf(page);
        // UDP to the media server is dropped, the relay's leg to it too: TCP straight to it is left
        assert.equal(
          taken?.path,
          'tcp',
          `${who}: straight to the media server over TCP (${JSON.stringify(taken)})`,
        );
      }
      await Promise.all([clinician.close(), patient.close()]);
    } finally {
      restore();
    }
  });
});
