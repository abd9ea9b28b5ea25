import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser } from 'playwright-core';
import { buildTriageApp } from '../../triage/src/app';
import { migrateDatabase } from '../../triage/src/db/migrate';
import { createTestDatabase, type TestDatabase } from '../../triage/test/support/database';
import { seedPractice, type SeededPractice } from '../../triage/test/support/practices';
import { expectNoAxeViolations } from './support/axe';
import { startCallNode, type CallNode } from '../../signalling/test/support/call-node';
import { launchBrowser, newLocalPage, startWebServer, type RunningWebServer } from './support/browser';

describe('staff dashboard in Chromium: sign in, live queue, assign, close', () => {
  let db: TestDatabase;
  let triage: FastifyInstance;
  let web: RunningWebServer;
  let browser: Browser;
  let practice: SeededPractice;
  const enqueued: string[] = [];
  // the same secret as the call node's: staff tokens triage signs must open calls in signalling
  const jwtSecret = 'staff-test-secret-that-is-long-enough-0123456789';
  let callNode: CallNode | undefined;

  before(async () => {
    db = await createTestDatabase();
    await migrateDatabase(db.url);
    practice = await seedPractice(db.pool, 'A81001');
    triage = await buildTriageApp({
      pool: db.pool,
      jwtSecret,
      writeBack: {
        queue: (job) => {
          enqueued.push(job.consultationId);
          return Promise.resolve();
        },
        requeue: () => Promise.resolve(),
      },
      live: {},
      now: () => new Date('2026-07-13T09:00:00Z'),
    });
    await triage.listen({ host: '127.0.0.1', port: 0 });
    callNode = await startCallNode({ jwtSecret });
    web = await startWebServer({
      triageUrl: `http://127.0.0.1:${(triage.server.address() as AddressInfo).port}`,
      signallingUrl: callNode.url,
    });
    browser = await launchBrowser();
  });

  after(async () => {
    await browser?.close();
    await web?.close();
    await triage?.close();
    await callNode?.close();
    await db?.drop();
  });

  it('shows a new request without reloading, and takes it from assignment to a coded close', async () => {
    const page = await newLocalPage(browser, { viewport: { width: 1280, height: 900 } });
    await page.goto(`${web.url}staff.html`);
    await page.getByLabel('Practice code').fill('A81001');
    await page.getByLabel('Email address').fill(practice.staff.clinician.email);
    await page.getByLabel('Password').fill('wrong password');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('The practice, email or password is not right').waitFor();
    await page.getByLabel('Password').fill(practice.staff.clinician.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();
    await page.getByText('No requests to show.').waitFor();
    await new Promise((resolve) => setTimeout(resolve, 300)); // the live connection is up

    // a patient sends a request meanwhile
    const forms = (await triage.inject({ method: 'GET', url: '/practices/A81001' })).json<{
      forms: { id: string; slug: string }[];
    }>().forms;
    const submitted = await triage.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: {
        idempotencyKey: randomUUID(),
        formId: forms.find((form) => form.slug === 'repeat-prescription')!.id,
        patient: {
          givenName: 'Robin',
          familyName: 'Sample',
          birthDate: '1975-05-06',
          nhsNumber: '9434765919',
          phone: '07700 900456',
        },
        submittedBy: { type: 'patient' },
        preferredContact: 'sms',
        answers: {
          resourceType: 'QuestionnaireResponse',
          status: 'completed',
          item: [{ linkId: 'details', answer: [{ valueString: 'Inhaler running low' }] }],
        },
      },
    });
    const { reference } = submitted.json<{ reference: string }>();
    await page.getByRole('link', { name: reference }).waitFor({ timeout: 10_000 });
    await expectNoAxeViolations(page, 'queue');

    await page.getByRole('link', { name: reference }).click();
    await page.getByText('Inhaler running low').waitFor();
    await page.getByRole('button', { name: 'Assign to me' }).click();
    await page.locator('#detail-list').getByText('You', { exact: true }).waitFor();
    await page.getByLabel('Priority').selectOption('urgent');
    await page.locator('#detail-list').getByText('in progress, urgent').waitFor();
    await page.screenshot({ path: '/tmp/staff-detail.png', fullPage: true });
    await expectNoAxeViolations(page, 'request detail');

    // a message to the patient, who opens the link, proves their date of birth and replies
    await page.getByLabel('Message to the patient').fill('Which inhaler is it, the blue or the brown one?');
    await page.getByRole('button', { name: 'Send message' }).click();
    await page.locator('#thread-link-row').waitFor({ state: 'visible' });
    const threadLink = (await page.locator('#thread-link').getAttribute('href')) ?? '';
    const patient = await newLocalPage(browser, { viewport: { width: 390, height: 844 } });
    await patient.goto(`${web.url}thread.html${new URL(threadLink).hash}`);
    await patient.getByLabel('Date of birth').fill('1990-01-01');
    await patient.getByRole('button', { name: 'Continue' }).click();
    await patient.getByText('That date of birth does not match our records').waitFor();
    await patient.getByLabel('Date of birth').fill('1975-05-06');
    await patient.getByRole('button', { name: 'Continue' }).click();
    await patient.getByText('Which inhaler is it, the blue or the brown one?').waitFor();
    await expectNoAxeViolations(patient, 'patient thread');
    await patient.getByLabel('Reply to your GP surgery').fill('The blue one');
    await patient.getByRole('button', { name: 'Send reply' }).click();
    await patient.getByText('The blue one').waitFor();
    await patient.screenshot({ path: '/tmp/thread-patient.png', fullPage: true });
    await page.locator('#message-list').getByText('The blue one').waitFor({ timeout: 10_000 });

    // a video call from the request: signalling accepts triage's staff token, and the clinician is in
    const callTab = page.context().waitForEvent('page');
    await page.getByRole('button', { name: 'Start video call' }).click();
    const clinicianTab = await callTab;
    await clinicianTab.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, {
      timeout: 15_000,
    });
    assert.match((await page.locator('#call-link').getAttribute('href')) ?? '', /\/call\.html#t=/);
    await clinicianTab.close();

    await page.getByLabel('Outcome').selectOption({ label: 'Review of medication' });
    await page.getByLabel('Summary for the GP record').fill('Repeat inhaler issued; review in 6 months.');
    await page.getByRole('button', { name: 'Close request' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();
    const { rows } = await db.pool.query<{
      status: string;
      outcome_code: string;
      assigned_to: string;
      id: string;
    }>('SELECT id, status, outcome_code, assigned_to FROM consultation WHERE reference = $1', [reference]);
    assert.equal(rows[0]?.status, 'closed');
    assert.equal(rows[0]?.outcome_code, '182836005');
    assert.equal(rows[0]?.assigned_to, practice.staff.clinician.id);
    assert.deepEqual(enqueued, [rows[0]?.id], 'closing asks for the write-back');
  });
});
