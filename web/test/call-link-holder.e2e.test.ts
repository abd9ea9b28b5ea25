import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { expectNoAxeViolations } from './support/axe';
import { newLocalPage } from './support/browser';
import { admittedCall, joinAsPatient, startCallWorld } from './support/call';

const shots = '/tmp/callholder';

describe('a call link opened on a second device in Chromium: the clinician decides, the patient stays', async () => {
  // triage makes calls and signs every token; the call node verifies them with triage's JWKS
  const world = await startCallWorld({ after });
  const { web, browser } = world;
  mkdirSync(shots, { recursive: true });

  const inCall = (page: Page) =>
    page.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, { timeout: 20_000 });
  /** The notice on the clinician's page, with its two buttons. */
  const notice = (clinician: Page) =>
    clinician.locator('.nhsuk-warning-callout', { hasText: 'This link was opened on another device' });

  it('shows the clinician the notice with Admit and Remove; Remove refuses the second device, Admit moves the call to it, a reload resumes, and ending the call closes the link', async () => {
    const { clinician, patient, patientLink } = await admittedCall(world, {
      clinician: browser,
      patient: browser,
    });
    await inCall(patient);

    // the link, replayed on another device (a browser context of its own: no session storage)
    const second = await newLocalPage(browser);
    await joinAsPatient(second, web.url, patientLink);
    await notice(clinician).waitFor({ timeout: 10_000 });
    await clinician.screenshot({ path: `${shots}/clinician-another-device.png`, fullPage: true });
    await expectNoAxeViolations(clinician, 'clinician page with the another-device notice');
    assert.equal(patient.url().includes('#'), false);
    assert.equal(
      await patient.evaluate(() => window.__call?.currentState),
      'in-call',
      'the patient stays in',
    );

    await notice(clinician).getByRole('button', { name: 'Remove' }).click();
    await second
      .getByRole('heading', { name: 'You cannot join the call from this device' })
      .waitFor({ timeout: 10_000 });
    await second.screenshot({ path: `${shots}/second-device-refused.png` });
    await notice(clinician).waitFor({ state: 'detached', timeout: 10_000 });
    assert.equal(await patient.evaluate(() => window.__call?.currentState), 'in-call');

    // the patient's phone reloads the page: its tab kept the link and the key, so no new admission
    await patient.reload();
    await patient.locator('#join:not([disabled])').waitFor({ timeout: 10_000 });
    await patient.click('#join');
    await inCall(patient);

    // another device again, and this time the clinician lets it take the link over
    const third = await newLocalPage(browser);
    await joinAsPatient(third, web.url, patientLink);
    await notice(clinician).getByRole('button', { name: 'Admit' }).click();
    await inCall(third);
    await patient
      .getByRole('heading', { name: 'Your call moved to another device' })
      .waitFor({ timeout: 10_000 });
    await patient.screenshot({ path: `${shots}/first-device-replaced.png` });

    // the clinician ends the call for everyone: the link opens nothing after
    await clinician.getByRole('button', { name: 'End the call for everyone' }).click();
    await clinician.getByRole('heading', { name: 'The call has ended' }).waitFor({ timeout: 10_000 });
    await third.getByRole('heading', { name: 'Your call has ended' }).waitFor({ timeout: 10_000 });
    const late = await newLocalPage(browser);
    await late.goto(`${web.url}call.html${new URL(patientLink).hash}`);
    await late.locator('#join:not([disabled])').waitFor({ timeout: 10_000 });
    await late.click('#join');
    await late.getByRole('heading', { name: 'Your call has ended' }).waitFor({ timeout: 10_000 });
  });
});
