import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { startTriage } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';

async function answer(page: Page, label: string): Promise<void> {
  await page.getByLabel(label, { exact: true }).check();
  await page.getByRole('button', { name: 'Continue' }).click();
}

describe('the online form through core hours, pauses, bank holidays and urgent answers, in Chromium against the real triage API and PostgreSQL', async () => {
  // Monday 13 July 2026, 10:00 in London: core hours
  let now = new Date('2026-07-13T09:00:00Z');
  const {
    db,
    url: triageUrl,
    practiceA,
    as,
    ...triage
  } = await startTriage({ after }, { listen: true, now: () => now });
  // a new practice's choice (test-support's practices are open out of hours, to run at any hour)
  await db.pool.query("UPDATE practice SET out_of_hours = 'closed' WHERE id = $1", [practiceA.id]);
  const web = await startStaticServer({ triageUrl });
  triage.after(() => web.close());
  const browser = await launchBrowser();
  triage.after(() => browser.close());
  const formUrl = `${web.url}form.html?practice=A81001`;

  it('during an exceptional pause the form shows 111 advice and until when, and cannot be started', async () => {
    const paused = await as(practiceA, 'admin').inject({
      method: 'POST',
      url: '/practice/pauses',
      payload: { reason: 'Clinical system down: agreed with the ICB', until: '2026-07-13T13:00:00Z' },
    });
    assert.equal(paused.statusCode, 201, paused.body);
    const page = await newLocalPage(browser, { viewport: { width: 390, height: 844 } });
    await page.goto(formUrl);
    await page
      .getByRole('heading', { name: 'Your GP surgery has paused online requests' })
      .waitFor({ timeout: 10_000 });
    const text = await page.locator('main').innerText();
    assert.match(text, /paused online requests until 2pm today/);
    assert.match(text, /call 111 or go to 111\.nhs\.uk/);
    assert.equal(
      await page.getByRole('link', { name: 'Get help from NHS 111 online' }).getAttribute('href'),
      'https://111.nhs.uk',
    );
    assert.equal(await page.getByRole('button', { name: 'Continue' }).count(), 0, 'nothing to start');
    assert.equal(await page.getByRole('radio').count(), 0);
    await expectNoAxeViolations(page, 'paused');
    await page.screenshot({ path: '/tmp/helper-e/form-paused.png', fullPage: true });
    await as(practiceA, 'admin').inject({
      method: 'POST',
      url: `/practice/pauses/${paused.json<{ id: string }>().id}/end`,
    });
  });

  it('on a bank holiday the form follows the practice’s out-of-hours choice', async () => {
    now = new Date('2026-08-31T09:00:00Z'); // Summer bank holiday, Monday 31 August 2026, 10:00 BST
    const page = await newLocalPage(browser, { viewport: { width: 390, height: 844 } });
    await page.goto(formUrl);
    await page
      .getByRole('heading', { name: 'Your GP surgery is not taking online requests at the moment' })
      .waitFor({ timeout: 10_000 });
    assert.match(await page.locator('main').innerText(), /opens again 8am tomorrow/);
    assert.equal(await page.getByRole('radio').count(), 0, 'closed: cannot start');
    await page.screenshot({ path: '/tmp/helper-e/form-bank-holiday-closed.png', fullPage: true });

    await db.pool.query("UPDATE practice SET out_of_hours = 'open' WHERE id = $1", [practiceA.id]);
    await page.reload();
    await page.getByRole('heading', { name: 'What do you need help with?' }).waitFor({ timeout: 10_000 });
    assert.match(
      await page.locator('#reply-time').innerText(),
      /closed now\. We will read your request when it opens, 8am tomorrow/,
    );
    await expectNoAxeViolations(page, 'open out of hours');
    await page.screenshot({ path: '/tmp/helper-e/form-bank-holiday-open.png', fullPage: true });
    await db.pool.query("UPDATE practice SET out_of_hours = 'closed' WHERE id = $1", [practiceA.id]);
    now = new Date('2026-07-13T09:00:00Z');
  });

  it('an urgent answer shows call 111 or the surgery now, and "Send anyway" sends it marked urgent', async () => {
    const page = await newLocalPage(browser, { viewport: { width: 390, height: 844 } });
    await page.goto(formUrl);
    await page.getByRole('heading', { name: 'What do you need help with?' }).waitFor({ timeout: 10_000 });
    assert.match(await page.locator('#reply-time').innerText(), /reply by the end of today/);
    await answer(page, 'Ask about a health problem (medical)');
    for (let question = 0; question < 4; question++) await answer(page, 'No');
    await answer(page, 'Something else');
    await page.getByLabel('Your answer', { exact: true }).fill('My cough is much worse since yesterday');
    await page.getByRole('button', { name: 'Continue' }).click();
    await answer(page, 'Less than a week');
    await answer(page, 'Yes, it is getting worse quickly');
    await page.getByRole('heading', { name: 'You need help today' }).waitFor();
    const text = await page.locator('main').innerText();
    assert.match(text, /Call 111 or your surgery now/);
    assert.match(text, /you can still send this request: it will be marked urgent/);
    await expectNoAxeViolations(page, 'urgent advice');
    await page.screenshot({ path: '/tmp/helper-e/form-urgent.png', fullPage: true });
    await page.getByRole('button', { name: 'Send anyway' }).click();
    await page.getByRole('button', { name: 'Continue' }).click(); // optional question left blank
    await page.getByRole('heading', { name: 'Photos or documents' }).waitFor();
    await page.getByRole('button', { name: 'Continue' }).click();
    await answer(page, 'Myself');
    await page.getByLabel('First name').fill('Pat');
    await page.getByLabel('Last name').fill('Example');
    await page.getByLabel('Date of birth').fill('1980-02-03');
    await page.getByLabel('Mobile or phone number').fill('07700 900123');
    await page.getByLabel('Text message').check();
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.getByRole('heading', { name: 'Your request has been sent' }).waitFor({ timeout: 10_000 });
    const reference = /GPC-[A-Z2-9]{8}/.exec(await page.locator('main').innerText())?.[0];
    const stored = await db.pool.query<{ priority: string; red_flag: string }>(
      'SELECT priority, red_flag FROM consultation WHERE reference = $1',
      [reference],
    );
    assert.deepEqual(stored.rows, [{ priority: 'urgent', red_flag: 'urgent' }]);
  });
});
