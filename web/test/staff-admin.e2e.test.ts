import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { StaffRole } from '@gpc/contracts';
import { startTriage } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { collectPageErrors, launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';

/** Where the page's screenshots go, to be looked at. */
const shots = process.env.GPC_SHOTS_DIR ?? '/tmp/revocation';
mkdirSync(shots, { recursive: true });
const screenshot = (name: string) => path.join(shots, `staff-admin-${name}.png`);

describe('staff admin page in Chromium: an admin manages the practice’s staff, and no one else can', async () => {
  const {
    db,
    practiceA: practice,
    url: triageUrl,
    as,
    ...world
  } = await startTriage(
    { after },
    // the dashboards' live feed, on this one triage node
    { live: {} },
  );
  const web = await startStaticServer({ triageUrl });
  world.after(() => web.close());
  const browser = await launchBrowser();
  world.after(() => browser.close());

  async function signIn(role: StaffRole, pagePath = 'staff-admin.html'): Promise<Page> {
    const page = await newLocalPage(browser, { viewport: { width: 1100, height: 900 } });
    await page.goto(`${web.url}${pagePath}`);
    await page.getByLabel('Practice code').fill(practice.odsCode);
    await page.getByLabel('Email address', { exact: true }).fill(practice.staff[role].email);
    await page.getByLabel('Password', { exact: true }).fill(practice.staff[role].password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }

  const member = async (email: string) =>
    (
      await db.pool.query<{ id: string; role: StaffRole; active: boolean }>(
        'SELECT id, role, active FROM staff WHERE practice_id = $1 AND email = $2',
        [practice.id, email],
      )
    ).rows[0];
  const banner = (page: Page, text: string) => page.locator('#success-banner').getByText(text).waitFor();

  it('lets an admin add a member of staff, change their role, stop them after a question, restart them, and reset their password and MFA', async () => {
    const page = await signIn('admin');
    const errors = collectPageErrors(page);
    await page.getByRole('heading', { name: 'Staff', exact: true }).waitFor();
    await page.screenshot({ path: screenshot('loaded'), fullPage: true });
    await expectNoAxeViolations(page, 'staff admin page');

    // the form's own checks first, in the error summary linked to each field
    await page.getByRole('button', { name: 'Add member of staff' }).click();
    await page.locator('#error-summary').getByText('Enter their full name').waitFor();
    await expectNoAxeViolations(page, 'staff admin page with the form’s errors');

    await page.getByLabel('Full name').fill('Dr Grace Hopper');
    await page.getByLabel('Work email address').fill('grace.hopper@riverside.example');
    await page.getByLabel('Clinician: requests and video calls').check();
    await page.getByLabel('First password').fill('a first password for grace');
    await page.getByRole('button', { name: 'Add member of staff' }).click();
    await banner(page, 'Dr Grace Hopper was added with the clinician role');
    const added = await member('grace.hopper@riverside.example');
    assert.deepEqual({ role: added?.role, active: added?.active }, { role: 'clinician', active: true });
    await page.screenshot({ path: screenshot('added'), fullPage: true });

    await page.getByLabel('Role for Dr Grace Hopper').selectOption('reception');
    await page.getByRole('button', { name: 'Change role for Dr Grace Hopper' }).click();
    await banner(page, 'Dr Grace Hopper now has the reception role');
    assert.equal((await member('grace.hopper@riverside.example'))?.role, 'reception');

    // stopping asks first, and Cancel changes nothing
    await page.getByRole('button', { name: 'Stop access for Dr Grace Hopper' }).click();
    await page.getByText("Stop Dr Grace Hopper's access?").waitFor();
    await page.screenshot({ path: screenshot('stop-question'), fullPage: true });
    await expectNoAxeViolations(page, 'staff admin page asking before stopping');
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.equal((await member('grace.hopper@riverside.example'))?.active, true, 'Cancel stops no one');
    await page.getByRole('button', { name: 'Stop access for Dr Grace Hopper' }).click();
    await page.getByRole('button', { name: 'Yes, stop their access' }).click();
    await banner(page, 'Dr Grace Hopper’s access was stopped');
    assert.equal((await member('grace.hopper@riverside.example'))?.active, false);
    await page
      .getByRole('row', { name: /Dr Grace Hopper/ })
      .getByText('Stopped')
      .waitFor();
    await page.screenshot({ path: screenshot('stopped'), fullPage: true });
    await expectNoAxeViolations(page, 'staff admin page after stopping');

    await page.getByRole('button', { name: 'Restart access for Dr Grace Hopper' }).click();
    await banner(page, 'Dr Grace Hopper can sign in again');
    assert.equal((await member('grace.hopper@riverside.example'))?.active, true);

    await page.getByRole('button', { name: 'Reset password for Dr Grace Hopper' }).click();
    const shown = page.locator('#temporary-password-value');
    await shown.waitFor();
    const temporaryPassword = (await shown.textContent()) ?? '';
    assert.ok(
      temporaryPassword.length >= 12,
      `a temporary password is shown (${temporaryPassword.length} characters)`,
    );
    await page.screenshot({ path: screenshot('temporary-password'), fullPage: true });
    await expectNoAxeViolations(page, 'staff admin page showing a temporary password');
    // it is their password now: signing in with it is not refused (they are asked for a new one)
    const login = await fetch(`${triageUrl}/auth/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        odsCode: practice.odsCode,
        email: 'grace.hopper@riverside.example',
        password: temporaryPassword,
      }),
    });
    assert.equal(login.status, 200, await login.text());
    await page.getByRole('button', { name: 'I have given it to them' }).click();
    assert.equal(await shown.isVisible(), false, 'shown once, then gone');

    await page.getByRole('button', { name: 'Reset MFA for Dr Grace Hopper' }).click();
    await banner(page, 'Dr Grace Hopper’s two-factor authentication was reset');
    await page.screenshot({ path: screenshot('mfa-reset'), fullPage: true });
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('tells a member of staff who is not an admin that they need one, and triage refuses them the staff list', async () => {
    const page = await signIn('clinician');
    await page.getByRole('heading', { name: 'You need to be a practice admin' }).waitFor();
    assert.equal(await page.locator('#staff-admin').isVisible(), false);
    await page.screenshot({ path: screenshot('not-admin'), fullPage: true });
    await expectNoAxeViolations(page, 'staff admin page for a clinician');
    const refused = await as(practice, 'clinician').inject({ method: 'GET', url: '/staff' });
    assert.equal(refused.statusCode, 403);
    const notAdded = await as(practice, 'reception').inject({
      method: 'POST',
      url: '/staff',
      payload: {
        name: 'Eve',
        email: 'eve@riverside.example',
        role: 'admin',
        password: 'a long enough password',
      },
    });
    assert.equal(notAdded.statusCode, 403, 'nor can they add anyone');
    await page.close();
  });

  it('signs a clinician’s open dashboard out within seconds when an admin stops their access', async () => {
    const dashboard = await signIn('clinician', 'staff.html');
    await dashboard.getByRole('heading', { name: 'Requests' }).waitFor();
    const admin = await signIn('admin');
    const name = practice.staff.clinician.name;
    await admin.getByRole('button', { name: `Stop access for ${name}` }).click();
    await admin.getByRole('button', { name: 'Yes, stop their access' }).click();
    const stoppedAt = Date.now();
    await banner(admin, `${name}’s access was stopped`);
    // triage closes their live feed; the page cannot renew its session, so it asks them to sign in
    await dashboard.locator('#sign-in').waitFor({ state: 'visible', timeout: 10_000 });
    await dashboard.getByText('You have been signed out: your session ended').waitFor();
    assert.ok(Date.now() - stoppedAt < 8000, `signed out within seconds (${Date.now() - stoppedAt} ms)`);
    await dashboard.screenshot({ path: screenshot('stopped-dashboard'), fullPage: true });
    await Promise.all([dashboard.close(), admin.close()]);
  });
});
