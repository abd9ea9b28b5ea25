import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { seedConsultation, startTriage } from '@gpc/test-support';
import { waitFor } from '@gpc/test-support/wait';
import { launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';
import { joinAsPatient, mediaFlows, startCallAsClinician } from './support/call';
import { participantOfLink, receivedMedia, startImpairedCallNode } from './support/impairment';

/**
 * What a page has sent of video so far, bytes, summed over its outbound streams (Chromium's
 * getStats), and whether any of them (the camera's simulcast encodings) is active.
 */
const videoSent = (page: Page): Promise<{ bytes: number; active: boolean }> =>
  page.evaluate(async () => {
    // the sending transport is the client's own (mediasoup-client), as in receivedMedia
    const transport = (
      window.__call as unknown as { sendTransport?: { closed: boolean; getStats(): Promise<RTCStatsReport> } }
    ).sendTransport;
    const sent = { bytes: 0, active: false };
    if (!transport || transport.closed) return sent;
    (await transport.getStats()).forEach((entry: Record<string, unknown>) => {
      if (entry.type !== 'outbound-rtp' || entry.kind !== 'video') return;
      sent.bytes += Number(entry.bytesSent ?? 0);
      if (entry.active === true) sent.active = true;
    });
    return sent;
  });

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

  it('keeps the patient’s audio coming through a sudden drop to 100 kbps by holding video back each way, the patient’s page sending no video while its uplink is congested, and brings video back once the rate returns', async () => {
    const clinician = await newLocalPage(browser);
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const token = triage.as(triage.practiceA, 'clinician').token;
    const patientLink = await startCallAsClinician(clinician, web.url, token, consultationId);
    const patientId = participantOfLink(patientLink);
    impaired.relay.clear();
    impaired.impairOnly(patientId);
    const patient = await newLocalPage(browser, { viewport: { width: 390, height: 844 } });
    await joinAsPatient(patient, web.url, patientLink);
    await clinician.getByRole('button', { name: 'Admit Pat Example' }).click();
    await mediaFlows(patient, 'patient');
    const layer = () => impaired.videoConsumers(patientId).at(-1)?.currentLayers?.spatialLayer ?? -1;
    await waitFor(
      () => `a layer above the lowest before the drop (now ${layer()})`,
      () => layer() >= 1,
      { timeoutMs: 30_000 },
    );
    /** What the call node lets the patient's browser send (REMB), kbps: undefined when it sets no cap. */
    const uplinkCap = async () => {
      for (const transport of impaired.transports(patientId))
        if (transport.appData.direction === 'send') {
          const [stats] = await transport.getStats();
          return stats?.maxIncomingBitrate ? stats.maxIncomingBitrate / 1000 : undefined;
        }
      return undefined;
    };
    assert.equal(await uplinkCap(), undefined, 'no cap on a clear path');

    // the link drops at once in both directions, as when a phone loses its signal
    const overflowedBefore = impaired.relay.counters().down.overflowed;
    impaired.relay.set({ up: { rateKbps: 100 }, down: { rateKbps: 100 } });
    // the call node tells the patient's page its uplink is congested: the camera's encodings stop,
    // leaving the link to audio: no encoding active, and no video sent between two readings a
    // quarter of a second apart (Chromium's own congestion control may pause a layer, not this)
    let sent = await videoSent(patient);
    assert.ok(sent.bytes > 0 && sent.active, 'the patient’s page sent video before the drop');
    await waitFor(
      () => `the patient’s page stops sending video (encodings active: ${sent.active})`,
      async () => {
        const now = await videoSent(patient);
        const stopped = !now.active && now.bytes === sent.bytes;
        sent = now;
        return stopped;
      },
      { intervalMs: 250 },
    );
    const sentWhileStopped = sent.bytes;
    await waitFor(
      () => `the call node holds the patient's video back: the lowest layer or none (now ${layer()})`,
      () => layer() <= 0,
      { timeoutMs: 30_000 },
    );
    await waitFor('a cap under the link’s rate on what the patient’s browser sends', async () => {
      const cap = await uplinkCap();
      return cap !== undefined && cap < 100;
    });
    // audio goes on: a second of it decoded, not concealed, in both directions
    const decoded = (media: Awaited<ReturnType<typeof receivedMedia>>) =>
      media.audioSamples - media.concealedSamples;
    const [patientBefore, clinicianBefore] = await Promise.all([
      receivedMedia(patient),
      receivedMedia(clinician),
    ]);
    await waitFor('the patient hears the clinician and the clinician hears the patient', async () => {
      const [onPatient, onClinician] = await Promise.all([receivedMedia(patient), receivedMedia(clinician)]);
      return (
        decoded(onPatient) > decoded(patientBefore) + 48_000 &&
        decoded(onClinician) > decoded(clinicianBefore) + 48_000
      );
    });

    impaired.relay.clear();
    await waitFor(
      () => `the patient's video back above the lowest layer once the rate returns (now ${layer()})`,
      () => layer() >= 1,
      { timeoutMs: 60_000 },
    );
    await waitFor('the cap on the patient’s browser lifted', async () => (await uplinkCap()) === undefined, {
      timeoutMs: 60_000,
    });
    await waitFor('the patient’s page sends video again', async () => {
      const now = await videoSent(patient);
      return now.active && now.bytes > sentWhileStopped;
    });
    await mediaFlows(patient, 'patient after the drop');
    await mediaFlows(clinician, 'clinician after the drop');
    const { overflowed } = impaired.relay.counters().down;
    assert.ok(overflowed > overflowedBefore, 'the drop was a bottleneck: its queue overflowed');
  });
});
