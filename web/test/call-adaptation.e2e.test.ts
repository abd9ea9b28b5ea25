import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { seedConsultation, startTriage } from '@gpc/test-support';
import { waitFor } from '@gpc/test-support/wait';
import { launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';
import { joinAsPatient, mediaFlows, startCallAsClinician } from './support/call';
import { participantOfLink, receivedMedia, startImpairedCallNode } from './support/impairment';

describe('video call on a poor network in Chromium: layers follow the bandwidth, and the page says so', async () => {
  const triage = await startTriage({ after }, { listen: true });
  const impaired = await startImpairedCallNode({ jwksUrl: `${triage.url}/.well-known/jwks.json` });
  triage.after(() => impaired.close());
  const web = await startStaticServer({ triageUrl: triage.url, signallingUrl: impaired.node.url });
  triage.after(() => web.close());
  const browser = await launchBrowser();
  triage.after(() => browser.close());

  it('drops the patient to the lowest layer under a 150 kbps limit, offers audio only, and recovers once it lifts', async () => {
    const clinician = await newLocalPage(browser);
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const token = triage.as(triage.practiceA, 'clinician').token;
    const patientLink = await startCallAsClinician(clinician, web.url, token, consultationId);
    const patientId = participantOfLink(patientLink);
    impaired.impairOnly(patientId);
    const patient = await newLocalPage(browser, { viewport: { width: 390, height: 844 } });
    await joinAsPatient(patient, web.url, patientLink);
    await clinician.getByRole('button', { name: 'Admit Pat Example' }).click();
    await mediaFlows(patient, 'patient');

    const layer = () => impaired.videoConsumers(patientId)[0]?.currentLayers?.spatialLayer ?? -1;
    await waitFor(
      () => `a layer above the lowest before the limit (now ${layer()})`,
      () => layer() >= 1,
      {
        timeoutMs: 30_000,
      },
    );
    const notice = patient.locator('#poor-connection');
    assert.equal(await notice.isVisible(), false, 'no notice on a good connection');

    impaired.relay.set({ down: { rateKbps: 150 }, up: { rateKbps: 300 } });
    await waitFor(
      () => `the lowest layer under the limit (now ${layer()})`,
      () => layer() === 0,
      {
        timeoutMs: 30_000,
      },
    );
    await notice.getByText('Your connection is poor').waitFor({ timeout: 30_000 });
    await patient.screenshot({ path: '/tmp/call-poor-connection.png' });
    await mediaFlows(patient, 'patient under the limit (audio and video keep coming)', 20_000);

    // audio only: the server stops sending video to the patient, and the sound goes on
    await patient.getByRole('button', { name: 'Switch to audio only' }).click();
    const video = () => impaired.videoConsumers(patientId)[0];
    await waitFor('the patient’s video consumer paused', () => video()?.paused === true);
    const before = await receivedMedia(patient);
    await waitFor('audio still arriving', async () => {
      const now = await receivedMedia(patient);
      return now.audioSamples > before.audioSamples + 48_000 && now;
    });
    await patient.getByRole('button', { name: 'Turn video back on' }).click();
    await waitFor('the patient’s video consumer resumed', () => video()?.paused === false);

    impaired.relay.clear();
    await waitFor(
      () => `a higher layer once the limit lifts (now ${layer()})`,
      () => layer() >= 1,
      {
        timeoutMs: 60_000,
      },
    );
    await notice.waitFor({ state: 'hidden', timeout: 60_000 });
    await mediaFlows(patient, 'patient after the limit lifted');
    const { overflowed } = impaired.relay.counters().down;
    assert.ok(overflowed > 0, 'the limit was a bottleneck: its queue overflowed');
  });
});
