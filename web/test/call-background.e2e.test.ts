import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { chromium, type Page } from 'playwright-core';
import { startTriage } from '@gpc/test-support';
import { startCallNode } from '../../signalling/test/support/call-node';
import { chromiumArgs, chromiumPath, launchBrowser } from './support/browser';
import { startStaticServer } from './support/static';
import { admittedCall, mediaFlows } from './support/call';
import { mediaBackOnNewTransport, reception, statesSeen, watchStates } from './support/call-recovery';

const shots = '/tmp/callbackground';
/** How long the patient's browser is stopped: a phone's browser in the background while a text is read. */
const backgroundMs = 30_000;

describe('a patient whose phone puts the browser in the background for 30 s comes back to the call', async () => {
  const triage = await startTriage({ after }, { listen: true });
  const node = await startCallNode({ jwksUrl: `${triage.url}/.well-known/jwks.json` });
  triage.after(() => node.close());
  const web = await startStaticServer({ triageUrl: triage.url, signallingUrl: node.url });
  triage.after(() => web.close());
  const clinicianBrowser = await launchBrowser();
  triage.after(() => clinicianBrowser.close());
  // the patient's Chromium as a server of its own, so the test has its process to stop (SIGSTOP)
  const patientServer = await chromium.launchServer({
    executablePath: chromiumPath,
    args: [...chromiumArgs],
  });
  triage.after(() => patientServer.close());
  const patientBrowser = await chromium.connect(patientServer.wsEndpoint());
  mkdirSync(shots, { recursive: true });

  /** Stops (or continues) every process of the patient's Chromium: it leads a process group of its own. */
  const signalPatientBrowser = (signal: 'SIGSTOP' | 'SIGCONT') =>
    process.kill(-patientServer.process().pid!, signal);
  const inCall = (page: Page) =>
    page.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, { timeout: 20_000 });

  it('is shown to the clinician as reconnecting, then is back in the call with media both ways and no new admission', async () => {
    const { clinician, patient } = await admittedCall(
      { triage, web },
      { clinician: clinicianBrowser, patient: patientBrowser },
    );
    await Promise.all([inCall(patient), inCall(clinician)]);
    // media flowing both ways before the phone goes to the background
    await Promise.all([mediaFlows(patient, 'patient before'), mediaFlows(clinician, 'clinician before')]);
    const patientBefore = await reception(patient);
    await watchStates(patient);
    // whether anyone waits for the clinician to admit them at any moment from now on
    await clinician.evaluate(() => {
      const list = document.getElementById('waiting-list')!;
      new MutationObserver(() => {
        if (list.children.length > 0) (window as { __admitAsked?: boolean }).__admitAsked = true;
      }).observe(list, { childList: true });
    });

    /** The patient's media on the call node (in this process): its peer in the call's room. */
    const patientPeer = () => {
      for (const session of node.app.calls.all())
        for (const participant of session.participants.values())
          if (participant.role === 'patient') return session.room?.peer(participant.id);
      return undefined;
    };
    let mediaWhileAway = '';
    signalPatientBrowser('SIGSTOP');
    const stoppedAt = Date.now();
    let noticedAfterMs: number;
    try {
      const notice = clinician.locator('#away-notice');
      await notice
        .filter({ hasText: 'Pat Example' })
        .filter({ hasText: 'Reconnecting' })
        .waitFor({
          timeout: backgroundMs - 2000,
        });
      noticedAfterMs = Date.now() - stoppedAt;
      assert.match(
        (await clinician.locator('.gpc-tile figcaption').allTextContents()).join('|'),
        /Pat Example \(reconnecting…\)/,
        "the patient's tile stays, saying they are reconnecting",
      );
      await clinician.screenshot({ path: `${shots}/clinician-patient-reconnecting.png`, fullPage: true });
      // the point of the test: a phone's browser stopped as long as it takes to read a text message
      await new Promise((resolve) => setTimeout(resolve, backgroundMs - 1000 - (Date.now() - stoppedAt)));
      // near the end of the stop, the call node still holds the patient's media
      const peer = patientPeer();
      assert.ok(peer && !peer.closed, "the patient's media is kept while they are away");
      mediaWhileAway = [...peer.transports.values()].map((transport) => transport.iceState).join(', ');
      assert.equal(peer.producers.size, 2, 'their microphone and camera producers are kept');
      await new Promise((resolve) => setTimeout(resolve, backgroundMs - (Date.now() - stoppedAt)));
    } finally {
      signalPatientBrowser('SIGCONT');
    }
    const resumedAt = Date.now();

    // the patient's page joins afresh (new transports); the clinician's receives their new media
    const patientBack = await mediaBackOnNewTransport(
      patient,
      'patient after the background',
      patientBefore,
      30_000,
    );
    await mediaFlows(clinician, 'clinician after the background', 30_000);
    const clinicianBack = Date.now();
    await clinician.locator('#away-notice').waitFor({ state: 'hidden', timeout: 10_000 });
    await inCall(patient);
    assert.equal(
      (await statesSeen(patient)).includes('waiting'),
      false,
      'the patient never went back to the waiting room',
    );
    assert.equal(
      await clinician.evaluate(() => (window as { __admitAsked?: boolean }).__admitAsked ?? false),
      false,
      'the clinician was never asked to admit them again',
    );
    await patient.screenshot({ path: `${shots}/patient-back.png` });
    console.log(
      `stopped ${backgroundMs} ms; clinician shown "reconnecting" ${noticedAfterMs} ms after the stop; ` +
        `patient's transports on the call node near the end: ${mediaWhileAway}; ` +
        `media back ${patientBack - resumedAt} ms (patient) and ${clinicianBack - resumedAt} ms (clinician) after SIGCONT; ` +
        `patient states ${JSON.stringify(await statesSeen(patient))}`,
    );
  });
});
