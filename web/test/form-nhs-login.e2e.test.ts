import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { nhsLoginTestUsers } from '@gpc/local-oidc-provider';
import { freePort, startTriage } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';

// Monday 13 July 2026, 10:00 in London: the practice is open
const mondayMorning = new Date('2026-07-13T09:00:00Z');
const janeP9 = nhsLoginTestUsers.find((user) => user.proofingLevel === 'P9')!;
const screenshots = process.env.SCREENSHOT_DIR ?? '/tmp';

async function answer(page: Page, label: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).check();
  await page.getByRole('button', { name: 'Continue' }).click();
}

describe('the online form with NHS login, in Chromium, against the local NHS login stand-in, triage and PostgreSQL', async () => {
  // NHS login sends the browser back to the web server's /api (proxied to triage), so its port is chosen first
  const webPort = await freePort();
  const webUrl = `http://127.0.0.1:${webPort}/`;
  const triage = await startTriage(
    { after },
    {
      listen: true,
      now: () => mondayMorning,
      publicWebUrl: webUrl,
      nhsLogin: { redirectUri: `${webUrl}api/nhs-login/callback` },
    },
  );
  const web = await startStaticServer({ triageUrl: triage.url, port: webPort });
  triage.after(() => web.close());
  const offered = await triage.as(triage.practiceA, 'admin').inject({
    method: 'PATCH',
    url: '/practice',
    payload: { nhsLoginOffered: true },
  });
  assert.equal(offered.statusCode, 200, offered.body);
  const browser = await launchBrowser();
  triage.after(() => browser.close());

  it('a P9 patient signs in with NHS login, sees their details as text they cannot change, and sends a request that arrives confirmed', async () => {
    const page = await newLocalPage(browser, { viewport: { width: 390, height: 844 } });
    await page.goto(`${web.url}form.html?practice=A81001`);
    await page.getByRole('heading', { name: 'How do you want to continue?' }).waitFor({ timeout: 10_000 });
    await expectNoAxeViolations(page, 'NHS login offered');
    await page.screenshot({ path: `${screenshots}/form-nhs-login-offer.png`, fullPage: true });

    await page.getByRole('button', { name: 'Continue with NHS login' }).click();
    await page.getByRole('heading', { name: /Sign in to continue/ }).waitFor({ timeout: 10_000 });
    await page.getByLabel('Email address').fill(janeP9.email);
    await page.getByLabel('Password').fill(janeP9.password);
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'What do you need help with?' }).waitFor({ timeout: 10_000 });
    assert.equal(page.url(), `${web.url}form.html?practice=A81001`, 'the session token left the address bar');
    assert.equal(
      await page.evaluate(() => history.length > 0 && location.hash),
      '',
      'and the history entry holds no fragment',
    );

    await answer(page, 'Ask about a health problem (medical)');
    for (let question = 0; question < 4; question++) await answer(page, 'No');
    await answer(page, 'A sore throat');
    await page.getByRole('button', { name: 'Continue with my request' }).click();
    await page.getByLabel('Your answer', { exact: true }).fill('A cough for three weeks');
    await page.getByRole('button', { name: 'Continue' }).click();
    await answer(page, '1 to 4 weeks');
    await answer(page, 'No');
    await page.getByRole('button', { name: 'Continue' }).click(); // optional question left blank
    await page.getByRole('heading', { name: 'Photos or documents' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();

    // no "who is this for": with NHS login the request is for the patient
    await page.getByRole('heading', { name: 'About you' }).waitFor();
    await page.getByRole('heading', { name: 'From your NHS login' }).waitFor();
    const details = await page.locator('main').innerText();
    assert.match(details, /Jane SMITH/);
    assert.match(details, /14 July 1985/);
    assert.doesNotMatch(details, /9000000009|900 000 0009/, 'the NHS number is not shown');
    for (const label of ['First name', 'Last name', 'Date of birth', 'NHS number (optional)'])
      assert.equal(await page.getByLabel(label, { exact: true }).count(), 0, `no ${label} input`);
    await page.getByLabel('Mobile or phone number').fill('07700 900123');
    await page.getByLabel('Text message').check();
    await expectNoAxeViolations(page, 'about you, from NHS login');
    await page.screenshot({ path: `${screenshots}/form-nhs-login-signed-in.png`, fullPage: true });
    await page.getByRole('button', { name: 'Continue' }).click();

    await page.getByRole('heading', { name: 'Check your answers before sending' }).waitFor();
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.getByRole('heading', { name: 'Your request has been sent' }).waitFor({ timeout: 10_000 });
    const reference = /GPC-[A-Z2-9]{8}/.exec(await page.locator('main').innerText())?.[0];
    assert.ok(reference);
    const stored = await triage.db.pool.query(
      `SELECT patient_given_name, patient_family_name, patient_nhs_number, identity_source, identity_status,
              identity_confirmed_nhs_number FROM consultation WHERE reference = $1`,
      [reference],
    );
    assert.deepEqual(stored.rows, [
      {
        patient_given_name: 'Jane',
        patient_family_name: 'SMITH',
        patient_nhs_number: '9000000009',
        identity_source: 'nhs_login',
        identity_status: 'nhs_login_p9',
        identity_confirmed_nhs_number: '9000000009',
      },
    ]);
  });

  it('tells the patient when they come back from NHS login without signing in, and lets them go on without it', async () => {
    const page = await newLocalPage(browser);
    await page.goto(`${web.url}form.html?practice=A81001`);
    await page.getByRole('button', { name: 'Continue with NHS login' }).click();
    await page.getByRole('button', { name: 'Cancel and go back' }).click();
    await page.getByRole('heading', { name: 'How do you want to continue?' }).waitFor({ timeout: 10_000 });
    await page.getByText('You did not finish signing in with NHS login.').first().waitFor();
    assert.equal(page.url(), `${web.url}form.html?practice=A81001`);
    await page.getByRole('button', { name: 'Continue without NHS login' }).click();
    await page.getByRole('heading', { name: 'What do you need help with?' }).waitFor();
  });
});
