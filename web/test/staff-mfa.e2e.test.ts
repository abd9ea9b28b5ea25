import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { StaffRole } from '@gpc/contracts';
import { startTriage, totpCode } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { collectPageErrors, launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';

/** Where the pages' screenshots go, to be looked at. */
const screenshots = process.env.GPC_SCREENSHOTS ?? '/tmp/mfa';
mkdirSync(screenshots, { recursive: true });
const screenshot = (name: string) => path.join(screenshots, `${name}.png`);
/** The page's errors, less the refusals this test provokes on purpose (a wrong code, a wrong password). */
const unexpected = (errors: string[]) =>
  errors.filter(
    (error) => !/Failed to load resource: the server responded with a status of 40[01]/.test(error),
  );

describe('staff two-factor authentication in Chromium: enrolment at sign-in, password plus TOTP, recovery codes, the account page', async () => {
  const {
    db,
    practiceA: practice,
    url: triageUrl,
    ...world
  } = await startTriage(
    { after },
    // the tests sign in many times from one address; the address limit has its own test in triage
    { listen: true, rateLimitAllowList: ['127.0.0.1'] },
  );
  const web = await startStaticServer({ triageUrl });
  world.after(() => web.close());
  const browser = await launchBrowser();
  world.after(() => browser.close());
  // the practice requires MFA of admins and clinicians, as new practices do
  await db.pool.query(`UPDATE practice SET mfa_required_roles = '{admin,clinician}' WHERE id = $1`, [
    practice.id,
  ]);

  async function signInWithPassword(
    role: StaffRole,
    password = practice.staff[role].password,
  ): Promise<Page> {
    const page = await newLocalPage(browser, { viewport: { width: 1000, height: 900 } });
    await page.goto(`${web.url}account.html`);
    await page.getByLabel('Practice code').fill(practice.odsCode);
    await page.getByLabel('Email address').fill(practice.staff[role].email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    return page;
  }

  let secret = '';
  let recoveryCodes: string[] = [];

  it('leads an admin the practice requires MFA of through setting it up before they get a session', async () => {
    const page = await signInWithPassword('admin');
    const errors = collectPageErrors(page);
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    const qr = page.getByRole('img', { name: 'QR code to scan with your authenticator app' });
    await qr.waitFor();
    assert.match((await qr.getAttribute('src')) ?? '', /^data:image\/svg\+xml;base64,/);
    assert.equal(await page.locator('#account').isVisible(), false, 'no account yet: no session');
    await page.locator('#sign-in-enrol').getByText('I cannot scan the QR code').click();
    secret = ((await page.locator('#sign-in-enrol-secret').textContent()) ?? '').replace(/\s/g, '');
    assert.match(secret, /^[A-Z2-7]{32}$/);
    await page.screenshot({ path: screenshot('enrol-at-sign-in'), fullPage: true });
    await expectNoAxeViolations(page, 'enrolment at sign-in');

    // a wrong code first: said in the error summary, and nothing switched on
    const enrol = page.locator('#sign-in-enrol');
    await enrol
      .getByLabel('Code from your authenticator app')
      .fill(totpCode(secret) === '000000' ? '111111' : '000000');
    await enrol.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.locator('#error-summary').getByText('The code is not right').waitFor();
    await enrol.getByLabel('Code from your authenticator app').fill(totpCode(secret));
    await enrol.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.getByRole('heading', { name: 'Save your recovery codes' }).waitFor();
    recoveryCodes = await page.locator('#sign-in-recovery-codes li').allTextContents();
    assert.equal(recoveryCodes.length, 10);
    assert.ok(recoveryCodes.every((code) => /^[0-9A-Z]{5}-[0-9A-Z]{5}$/.test(code)));
    await page.screenshot({ path: screenshot('recovery-codes-at-sign-in'), fullPage: true });
    await expectNoAxeViolations(page, 'recovery codes at sign-in');

    await page.getByRole('button', { name: 'I have saved my recovery codes' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByText('Two-factor authentication is on. You have 10 recovery codes left.').waitFor();
    await page.screenshot({ path: screenshot('account-mfa-on'), fullPage: true });
    await expectNoAxeViolations(page, 'account page with MFA on');
    assert.deepEqual(unexpected(errors), []);
    await page.close();
  });

  it('signs the admin in with their password plus a code from the app, and a recovery code instead', async () => {
    assert.ok(secret, 'enrolled by the test before');
    const page = await signInWithPassword('admin');
    const errors = collectPageErrors(page);
    await page.getByRole('heading', { name: 'Enter the code from your authenticator app' }).waitFor();
    await page.screenshot({ path: screenshot('totp-step'), fullPage: true });
    await expectNoAxeViolations(page, 'code step');
    // enrolment took this 30 seconds' code: the app's next one, which a step either side allows
    const step = page.locator('#sign-in-code-form');
    await step.getByLabel('Code from your authenticator app').fill(totpCode(secret, Date.now() + 30_000));
    await step.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.close();

    const withRecovery = await signInWithPassword('admin');
    await withRecovery.getByRole('link', { name: 'Use a recovery code instead' }).click();
    await withRecovery.getByRole('heading', { name: 'Enter one of your recovery codes' }).waitFor();
    await withRecovery.locator('#sign-in-code-form').getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await withRecovery.screenshot({ path: screenshot('recovery-code-step'), fullPage: true });
    await expectNoAxeViolations(withRecovery, 'recovery code step');
    await withRecovery.getByRole('button', { name: 'Continue' }).click();
    await withRecovery.getByText('You have 9 recovery codes left.').waitFor();
    await withRecovery.close();

    // the same recovery code a second time: refused, in the error summary
    const again = await signInWithPassword('admin');
    await again.getByRole('link', { name: 'Use a recovery code instead' }).click();
    await again.locator('#sign-in-code-form').getByLabel('Recovery code').fill(recoveryCodes[0]!);
    await again.getByRole('button', { name: 'Continue' }).click();
    await again
      .locator('#error-summary')
      .getByText('The code is not right, or has been used already')
      .waitFor();
    await again.screenshot({ path: screenshot('recovery-code-reused'), fullPage: true });
    assert.equal(await again.locator('#account').isVisible(), false);
    assert.deepEqual(unexpected(errors), []);
    await again.close();
  });

  it('lets a receptionist set up MFA from their account page, then change their password there', async () => {
    const page = await signInWithPassword('reception');
    const errors = collectPageErrors(page);
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    await page.getByText('Two-factor authentication is off.').waitFor();
    await page.screenshot({ path: screenshot('account-mfa-off'), fullPage: true });
    await expectNoAxeViolations(page, 'account page with MFA off');
    await page.getByRole('button', { name: 'Set up two-factor authentication' }).click();
    const qr = page.getByRole('img', { name: 'QR code to scan with your authenticator app' });
    await qr.waitFor();
    await page.locator('#account').getByText('I cannot scan the QR code').click();
    const own = ((await page.locator('#account-enrol-secret').textContent()) ?? '').replace(/\s/g, '');
    await page.screenshot({ path: screenshot('account-enrol'), fullPage: true });
    await expectNoAxeViolations(page, 'enrolment on the account page');
    const account = page.locator('#account');
    await account.getByLabel('Code from your authenticator app').first().fill(totpCode(own));
    await account.getByRole('button', { name: 'Turn on two-factor authentication' }).click();
    await page.getByRole('alert').getByText('Two-factor authentication is on').waitFor();
    assert.equal(await page.locator('#account-recovery-codes li').count(), 10);
    await page.getByText('You have 10 recovery codes left.').waitFor();
    await page.screenshot({ path: screenshot('account-recovery-codes'), fullPage: true });

    const newPassword = 'reception chose a long one';
    await account.getByLabel('Current password').fill('not the password');
    await account.getByLabel('New password', { exact: true }).fill(newPassword);
    await account.getByLabel('Confirm new password').fill(newPassword);
    await account.getByRole('button', { name: 'Change password' }).click();
    await page.locator('#error-summary').getByText('The current password is not right').waitFor();
    await account.getByLabel('Current password').fill(practice.staff.reception.password);
    await account.getByRole('button', { name: 'Change password' }).click();
    await page.getByRole('alert').getByText('Your password has been changed').waitFor();
    await page.screenshot({ path: screenshot('password-changed'), fullPage: true });
    await expectNoAxeViolations(page, 'account page after a password change');
    // still signed in here, on the new session: the page reloads without asking again
    await page.reload();
    await page.getByRole('heading', { name: 'Your account' }).waitFor();
    assert.deepEqual(unexpected(errors), []);
    await page.close();

    // the new password, then the code
    const next = await signInWithPassword('reception', newPassword);
    const nextStep = next.locator('#sign-in-code-form');
    await nextStep.getByLabel('Code from your authenticator app').fill(totpCode(own, Date.now() + 30_000));
    await nextStep.getByRole('button', { name: 'Continue' }).click();
    await next.getByRole('heading', { name: 'Your account' }).waitFor();
    await next.close();
  });

  it('makes a clinician whose password an admin reset choose a new one at sign-in, then set up the MFA their role requires', async () => {
    const reset = await world.app.inject({
      method: 'POST',
      url: `/staff/${practice.staff.clinician.id}/password/reset`,
      headers: world.as(practice, 'admin').headers,
      payload: {},
    });
    assert.equal(reset.statusCode, 200, reset.body);
    const { temporaryPassword } = reset.json<{ temporaryPassword: string }>();
    const page = await signInWithPassword('clinician', temporaryPassword);
    const errors = collectPageErrors(page);
    const form = page.locator('#sign-in-new-password-form');
    await form.getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await form.getByLabel('New password', { exact: true }).fill('clinician chose this one');
    await form.getByLabel('Confirm new password').fill('clinician chose that one');
    await form.getByRole('button', { name: 'Save password and continue' }).click();
    await page.locator('#error-summary').getByText('The two new passwords are not the same').waitFor();
    await form.getByLabel('Confirm new password').fill('clinician chose this one');
    await page.screenshot({ path: screenshot('new-password-step'), fullPage: true });
    await expectNoAxeViolations(page, 'new password step');
    await form.getByRole('button', { name: 'Save password and continue' }).click();
    await page.getByRole('heading', { name: 'Set up two-factor authentication' }).waitFor();
    assert.equal(await page.locator('#sign-in-new-password-form').isVisible(), false);
    assert.deepEqual(unexpected(errors), []);
    await page.close();
  });

  it('lets an admin choose on the settings page which roles must use two-factor authentication', async () => {
    const other = world.practiceB;
    const page = await newLocalPage(browser, { viewport: { width: 1000, height: 900 } });
    const errors = collectPageErrors(page);
    await page.goto(`${web.url}settings.html`);
    await page.getByLabel('Practice code').fill(other.odsCode);
    await page.getByLabel('Email address').fill(other.staff.admin.email);
    await page.getByLabel('Password', { exact: true }).fill(other.staff.admin.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    const section = page.locator('#mfa-policy');
    await section.getByRole('heading', { name: 'Two-factor authentication' }).waitFor();
    assert.equal(
      await section.getByLabel('Admins').isChecked(),
      false,
      'the seeded practice requires it of no one',
    );
    await section.getByLabel('Admins').check();
    await section.getByLabel('Clinicians').check();
    await section.getByRole('button', { name: 'Save two-factor authentication choice' }).click();
    await page
      .getByRole('alert')
      .getByText('Two-factor authentication is now required for admins and clinicians')
      .waitFor();
    const { rows } = await db.pool.query<{ mfa_required_roles: string[] }>(
      'SELECT mfa_required_roles FROM practice WHERE id = $1',
      [other.id],
    );
    assert.deepEqual(rows[0]!.mfa_required_roles, ['admin', 'clinician']);
    assert.equal(await section.getByLabel('Clinicians').isChecked(), true, 'shown again after saving');
    await section.screenshot({ path: screenshot('settings-mfa-policy') });
    await expectNoAxeViolations(page, 'settings page with the MFA policy');
    assert.deepEqual(unexpected(errors), []);
    await page.close();
  });
});
