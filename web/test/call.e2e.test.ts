import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { seedConsultation } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { newLocalPage } from './support/browser';
import { cutNetwork, joinAsPatient, mediaFlows, startCallAsClinician, startCallWorld } from './support/call';

describe('video call in Chromium: waiting room, admission, media both ways, recovery', async () => {
  // triage makes calls and signs every token; the call node verifies them with triage's JWKS
  const { triage, node, web, browser } = await startCallWorld({ after });
  const clinicianToken = () => triage.as(triage.practiceA, 'clinician').token;
  /** A request of practice A, from Pat Example: its call link carries the name from the record. */
  const request = () => seedConsultation(triage.db.pool, triage.practiceA.id);

  it('connects a patient and a clinician and survives a 4-second network cut', async () => {
    const clinician = await newLocalPage(browser);
    const patientLink = await startCallAsClinician(clinician, web.url, clinicianToken(), await request());
    assert.ok(patientLink.includes('#t='), 'the clinician sees the patient link');

    const patient = await newLocalPage(browser);
    await joinAsPatient(patient, web.url, patientLink);
    assert.equal(new URL(patient.url()).hash, '', 'the token is taken out of the address bar');
    await patient.screenshot({ path: '/tmp/call-waiting.png' });
    await expectNoAxeViolations(patient, 'waiting room');
    await expectNoAxeViolations(clinician, 'clinician call page');

    const admit = clinician.getByRole('button', { name: 'Admit Pat Example' });
    await admit.waitFor({ timeout: 10_000 });
    await clinician.screenshot({ path: '/tmp/call-clinician-waiting.png', fullPage: true });
    await admit.click();
    await patient.locator('#step-call').waitFor({ state: 'visible', timeout: 15_000 });

    await mediaFlows(patient, 'patient');
    await mediaFlows(clinician, 'clinician');
    await patient.screenshot({ path: '/tmp/call-patient-in-call.png' });
    await expectNoAxeViolations(patient, 'patient in the call');
    await clinician.screenshot({ path: '/tmp/call-clinician-in-call.png', fullPage: true });

    await cutNetwork(node.rtcPort, 4000);
    await mediaFlows(patient, 'patient after the cut', 20_000);
    await mediaFlows(clinician, 'clinician after the cut', 20_000);

    // a dropped signalling connection: socket.io reconnects, the patient rejoins still admitted
    await patient.evaluate(() => {
      const client = window.__call as unknown as { socket: { io: { engine: { close(): void } } } };
      client.socket.io.engine.close();
    });
    await patient.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, {
      timeout: 20_000,
    });
    assert.ok(await patient.locator('#step-call').isVisible(), 'back in the call, not the waiting room');
    await mediaFlows(patient, 'patient after the socket dropped', 20_000);
    await mediaFlows(clinician, 'clinician after the patient reconnected', 20_000);
  });

  it('brings in an interpreter with their own link, shows everyone in tiles, and carries messages', async () => {
    const clinician = await newLocalPage(browser);
    const patientLink = await startCallAsClinician(clinician, web.url, clinicianToken(), await request());
    const patient = await newLocalPage(browser);
    await joinAsPatient(patient, web.url, patientLink);
    await clinician.getByRole('button', { name: 'Admit Pat Example' }).click();
    await patient.locator('#step-call').waitFor({ state: 'visible', timeout: 15_000 });

    clinician.once('dialog', (dialog) => void dialog.accept('Ana Interpreter'));
    await clinician.click('#invite-guest');
    await clinician.waitForFunction(() =>
      document.getElementById('guest-link')?.getAttribute('href')?.includes('#t='),
    );
    const guestLink = (await clinician.locator('#guest-link').getAttribute('href')) ?? '';
    const guest = await newLocalPage(browser);
    await joinAsPatient(guest, web.url, guestLink);
    await clinician.getByRole('button', { name: 'Admit Ana Interpreter' }).click();
    await guest.locator('#step-call').waitFor({ state: 'visible', timeout: 15_000 });

    // each side shows a tile, named, for each of the two others
    for (const [page, others] of [
      [clinician, ['Pat Example', 'Ana Interpreter']],
      [patient, [triage.practiceA.staff.clinician.name, 'Ana Interpreter']],
      [guest, [triage.practiceA.staff.clinician.name, 'Pat Example']],
    ] as const) {
      await page.waitForFunction(
        () => document.querySelectorAll('#remote-tiles video').length === 2,
        undefined,
        {
          timeout: 15_000,
        },
      );
      for (const name of others)
        await page.locator('#remote-tiles figcaption', { hasText: name }).waitFor({ timeout: 10_000 });
    }
    await mediaFlows(guest, 'interpreter');
    await guest.screenshot({ path: '/tmp/call-three-way.png' });

    await patient.fill('#chat-text', 'Can you hear me?');
    await patient.click('#chat-form button');
    await clinician
      .locator('#chat-messages li', { hasText: 'Pat Example' })
      .filter({ hasText: 'Can you hear me?' })
      .waitFor({
        timeout: 10_000,
      });
    await guest.locator('#chat-messages li', { hasText: 'Can you hear me?' }).waitFor({ timeout: 10_000 });
  });

  it('shows a clear page for a link that is not valid', async () => {
    const page = await newLocalPage(browser);
    await page.goto(`${web.url}call.html#t=${'x'.repeat(20)}.${'y'.repeat(20)}.${'z'.repeat(20)}`);
    await page.locator('#join:not([disabled])').waitFor({ timeout: 10_000 });
    await page.click('#join');
    await page
      .getByRole('heading', { name: 'This link has expired or is not valid' })
      .waitFor({ timeout: 10_000 });
  });

  it('explains in plain words when the browser refuses the camera', async () => {
    const page = await newLocalPage(browser);
    await page.addInitScript(() => {
      navigator.mediaDevices.getUserMedia = () =>
        Promise.reject(new DOMException('denied', 'NotAllowedError'));
    });
    await page.goto(`${web.url}call.html#t=a.b.c`);
    await page
      .getByText('Your browser is not letting this page use your camera or microphone')
      .waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#problem-text').innerText(), /choose Allow/);
  });
});
