import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, describe, it } from 'node:test';
import { cis2TestUsers } from '@gpc/local-oidc-provider';
import { freePort, startTriage } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';

const gp = cis2TestUsers.find((user) => user.uid === '555000000101')!;
const elsewhere = cis2TestUsers.find((user) => user.uid === '555000000404')!;
const manager = cis2TestUsers.find((user) => user.uid === '555000000202')!;
const screenshots = process.env.SCREENSHOT_DIR ?? '/tmp/cis2';
mkdirSync(screenshots, { recursive: true });

describe('staff sign-in with NHS Care Identity (CIS2), in Chromium, against the local CIS2 stand-in, triage and PostgreSQL', async () => {
  // CIS2 sends the browser back to the web server's /api (proxied to triage), so its port is chosen first
  const webPort = await freePort();
  const webUrl = `http://127.0.0.1:${webPort}/`;
  const triage = await startTriage(
    { after },
    {
      listen: true,
      publicWebUrl: webUrl,
      cis2: { redirectUri: `${webUrl}api/auth/cis2/callback`, acrValues: 'AAL3_ANY' },
    },
  );
  const web = await startStaticServer({ triageUrl: triage.url, port: webPort });
  triage.after(() => web.close());
  await triage.db.pool.query("UPDATE practice SET cis2_sign_in = true WHERE ods_code = 'A81001'");
  const browser = await launchBrowser();
  triage.after(() => browser.close());

  it('a GP signs in with their smartcard through CIS2 and lands on the dashboard as a clinician, with no token left in the address bar', async () => {
    const page = await newLocalPage(browser, { viewport: { width: 1024, height: 800 } });
    await page.goto(`${web.url}staff.html`);
    const button = page.getByRole('button', { name: 'Sign in with NHS Care Identity' });
    assert.equal(await button.isVisible(), false, 'not offered before a practice code is given');
    await page.getByLabel('Practice code').fill('B82002');
    await page.waitForTimeout(300);
    assert.equal(await button.isVisible(), false, 'nor for a practice that does not use it');
    await page.getByLabel('Practice code').fill('A81001');
    await button.waitFor({ timeout: 10_000 });
    await expectNoAxeViolations(page, 'staff sign-in with NHS Care Identity offered');
    await page.screenshot({ path: `${screenshots}/staff-sign-in-cis2-offered.png`, fullPage: true });

    await button.click();
    await page.getByRole('heading', { name: /Sign in to continue/ }).waitFor({ timeout: 10_000 });
    await page.screenshot({ path: `${screenshots}/cis2-stand-in-sign-in.png`, fullPage: true });
    await page.getByLabel('Email address').fill(gp.email);
    await page.getByLabel('Passcode').fill(gp.password);
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Requests' }).waitFor({ timeout: 15_000 });
    await page.getByText('Signed in as Asha PATEL (clinician)').waitFor();
    assert.equal(page.url(), `${web.url}staff.html`, 'the one-time code left the address bar');
    await page.getByText('No requests to show.').waitFor();
    await page.screenshot({ path: `${screenshots}/staff-dashboard-after-cis2.png`, fullPage: true });
    const staff = await triage.db.pool.query(
      'SELECT role, sign_in_method, password_hash FROM staff WHERE cis2_uid = $1',
      [gp.uid],
    );
    assert.deepEqual(staff.rows, [{ role: 'clinician', sign_in_method: 'cis2', password_hash: null }]);

    // the session survives a reload like a password sign-in's (this tab's refresh token)
    await page.reload();
    await page.getByRole('heading', { name: 'Requests' }).waitFor({ timeout: 10_000 });
  });

  it('tells a member of staff whose roles are at another practice that they have no role here, and signs no one in', async () => {
    const page = await newLocalPage(browser, { viewport: { width: 1024, height: 800 } });
    await page.goto(`${web.url}staff.html?practice=A81001`);
    await page.getByRole('button', { name: 'Sign in with NHS Care Identity' }).click();
    await page.getByLabel('Email address').fill(elsewhere.email);
    await page.getByLabel('Passcode').fill(elsewhere.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByText('has no role at this practice').waitFor({ timeout: 15_000 });
    assert.equal(await page.getByRole('heading', { name: 'Requests' }).isVisible(), false);
    assert.equal(page.url(), `${web.url}staff.html`);
    await page.screenshot({ path: `${screenshots}/staff-sign-in-cis2-no-role.png`, fullPage: true });
  });

  it('the practice manager signs in through CIS2 as an admin, turns CIS2 sign-in off on the settings page, and sees CIS2 staff on the staff page with no password or MFA to reset', async () => {
    const page = await newLocalPage(browser, { viewport: { width: 1024, height: 800 } });
    await page.goto(`${web.url}settings.html?practice=A81001`);
    await page.getByRole('button', { name: 'Sign in with NHS Care Identity' }).click();
    await page.getByLabel('Email address').fill(manager.email);
    await page.getByLabel('Passcode').fill(manager.password);
    await page.getByRole('button', { name: 'Continue' }).click();
    await page
      .getByRole('heading', { name: 'NHS Care Identity (staff sign-in)' })
      .waitFor({ timeout: 15_000 });
    assert.equal(page.url(), `${web.url}settings.html`, 'back on the page they started from');
    const choice = page.getByLabel('Let staff sign in with NHS Care Identity');
    assert.equal(await choice.isChecked(), true);
    await choice.uncheck();
    await page.getByRole('button', { name: 'Save NHS Care Identity choice' }).click();
    await page
      .getByText('Staff can no longer sign in with NHS Care Identity')
      .first()
      .waitFor({ timeout: 10_000 });
    await page.locator('#cis2').screenshot({ path: `${screenshots}/settings-cis2-choice.png` });
    const offer = await triage.app.inject({ url: '/auth/cis2/offer?ods=A81001' });
    assert.deepEqual(offer.json<unknown>(), { offered: false });

    // the GP signed in through CIS2 in the first test: their role is CIS2's, and they have no password here
    await page.goto(`${web.url}staff-admin.html`);
    const gpRow = page.getByRole('row', { name: /Asha/i });
    await gpRow.waitFor({ timeout: 10_000 });
    assert.match(await gpRow.innerText(), /Signs in with NHS CIS2/);
    assert.match(await gpRow.innerText(), /\(from NHS CIS2\)/);
    assert.equal(
      await gpRow.getByRole('button', { name: /Reset password|Reset MFA|Change role/ }).count(),
      0,
    );
    assert.equal(await gpRow.getByRole('button', { name: /Stop access/ }).count(), 1);
    await page.screenshot({ path: `${screenshots}/staff-admin-cis2-member.png`, fullPage: true });
  });
});
