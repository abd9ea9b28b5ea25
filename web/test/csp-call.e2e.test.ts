import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { seedConsultation } from '@gpc/test-support';
import { newLocalPage } from './support/browser';
import { joinAsPatient, mediaFlows, startCallAsClinician, startCallWorld } from './support/call';

/** What the browser reports about the page's policies from before its first script runs. */
async function watchPolicies(page: Page): Promise<{ console: string[]; events: () => Promise<string[]> }> {
  await page.addInitScript(() => {
    const seen: string[] = [];
    (window as unknown as { cspViolations: string[] }).cspViolations = seen;
    document.addEventListener('securitypolicyviolation', (event) =>
      seen.push(`${event.effectiveDirective} ${event.blockedURI}`),
    );
  });
  const messages: string[] = [];
  page.on('console', (message) => {
    if (/Content Security Policy|Refused to|Permissions policy/i.test(message.text()))
      messages.push(message.text());
  });
  return {
    console: messages,
    events: () => page.evaluate(() => [...(window as unknown as { cspViolations: string[] }).cspViolations]),
  };
}

describe('a video call on the built pages, under their Content-Security-Policy and Permissions-Policy, with real triage and a real call node', async () => {
  // triage makes calls and signs every token; the call node verifies them with triage's JWKS
  const { triage, web, browser } = await startCallWorld({ after });
  await mkdir('/tmp/csp', { recursive: true });

  it('connects patient and clinician, camera and microphone allowed and media both ways, with no violation', async () => {
    const clinician = await newLocalPage(browser);
    const clinicianPolicies = await watchPolicies(clinician);
    const patientLink = await startCallAsClinician(
      clinician,
      web.url,
      triage.as(triage.practiceA, 'clinician').token,
      await seedConsultation(triage.db.pool, triage.practiceA.id),
    );
    const patient = await newLocalPage(browser);
    const patientPolicies = await watchPolicies(patient);
    await joinAsPatient(patient, web.url, patientLink);
    await clinician.getByRole('button', { name: 'Admit Pat Example' }).click();
    await patient.locator('#step-call').waitFor({ state: 'visible', timeout: 15_000 });
    await mediaFlows(patient, 'patient');
    await mediaFlows(clinician, 'clinician');
    await patient.screenshot({ path: '/tmp/csp/call-patient-built.png' });

    for (const [name, policies] of [
      ['patient', patientPolicies],
      ['clinician', clinicianPolicies],
    ] as const) {
      assert.deepEqual(await policies.events(), [], `${name}: violations`);
      assert.deepEqual(policies.console, [], `${name}: the console`);
    }
  });
});
