import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import type { FrameLocator, Page } from 'playwright-core';
import { startTriage, waitFor } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';

// Monday 13 July 2026, 10:00 in London: the practice is open
const mondayMorning = new Date('2026-07-13T09:00:00Z');

async function answer(form: FrameLocator | Page, label: string): Promise<void> {
  await form.getByLabel(label, { exact: true }).check();
  await form.getByRole('button', { name: 'Continue' }).click();
}

describe('the practice widget and the online form in Chromium, against the real triage API and PostgreSQL', async () => {
  const {
    db,
    url: triageUrl,
    ...triage
  } = await startTriage({ after }, { attachments: true, listen: true, now: () => mondayMorning });
  const web = await startStaticServer({
    triageUrl,
    // the form sends photos straight to storage, which the page's policy must name (WEB_STORAGE_URL)
    storageUrl: new URL(await triage.attachments!.uploadUrl('storage-origin', 'image/png', 1)).origin,
  });
  triage.after(() => web.close());
  // a practice's own website, on another origin, with styles that would break a careless widget
  const host = createServer((_request, response) => {
    response.setHeader('content-type', 'text/html');
    response.end(`<!doctype html><html lang="en"><head><title>Riverside Surgery</title>
        <style>* { font-size: 40px !important; color: red !important; } button { display: none !important; } iframe { display: none !important; }</style>
        </head><body><h1>Riverside Surgery</h1><script src="${web.url}widget.js" data-practice="A81001" async></script></body></html>`);
  });
  await new Promise<void>((resolve) => host.listen(0, '127.0.0.1', resolve));
  triage.after(() => new Promise((resolve) => host.close(resolve)));
  const hostUrl = `http://127.0.0.1:${(host.address() as AddressInfo).port}/`;
  // listed in the practice's settings, so the web server lets the form be framed there
  const listed = await triage.as(triage.practiceA, 'admin').inject({
    method: 'PATCH',
    url: '/practice',
    payload: { websiteOrigins: [new URL(hostUrl).origin] },
  });
  assert.equal(listed.statusCode, 200, listed.body);
  const browser = await launchBrowser();
  triage.after(() => browser.close());

  it('opens from the widget on a foreign page, whatever its CSS, and stops at a red flag with urgent advice', async () => {
    const page = await newLocalPage(browser);
    await page.goto(hostUrl);
    const button = page.getByRole('button', { name: 'Contact your GP surgery online' });
    await button.waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(
      await button.evaluate((node) => getComputedStyle(node).fontSize),
      '16px',
      'host CSS does not reach the widget',
    );
    await button.click();
    const form = page.frameLocator('iframe[title="Contact your GP surgery online"]');
    await form.getByText('Practice A81001').waitFor({ timeout: 10_000 });
    await answer(form, 'Ask about a health problem (medical)');
    await answer(form, 'Yes');
    await form.getByRole('heading', { name: 'Do not use this form' }).waitFor();
    assert.match(await form.locator('main').innerText(), /Call 999/);
    await page.screenshot({ path: '/tmp/form-widget-red-flag.png' });
    await waitFor(
      'the stop recorded',
      async () =>
        Boolean((await db.pool.query("SELECT 1 FROM red_flag_event WHERE link_id = 'chest-pain'")).rowCount),
      { timeoutMs: 2000, intervalMs: 100 },
    );
    assert.equal(
      (await db.pool.query("SELECT 1 FROM red_flag_event WHERE link_id = 'chest-pain'")).rowCount,
      1,
      'the stop was recorded',
    );
    assert.equal((await db.pool.query('SELECT 1 FROM consultation')).rowCount, 0, 'nothing was sent');
  });

  it('takes a request from start to reference, accessibly, one question per page', async () => {
    const page = await newLocalPage(browser, { viewport: { width: 390, height: 844 } });
    await page.goto(`${web.url}form.html?practice=A81001`);
    await page.getByRole('heading', { name: 'What do you need help with?' }).waitFor({ timeout: 10_000 });
    await expectNoAxeViolations(page, 'choose a form');
    await answer(page, 'Ask about a health problem (medical)');
    for (let question = 0; question < 4; question++) await answer(page, 'No');
    await expectNoAxeViolations(page, 'a question');
    await answer(page, 'A sore throat');
    await page.getByRole('heading', { name: 'You may be able to look after this yourself' }).waitFor();
    assert.equal(
      await page.getByRole('link', { name: /NHS advice/ }).getAttribute('href'),
      'https://www.nhs.uk/conditions/sore-throat/',
    );
    await expectNoAxeViolations(page, 'self-care advice');
    await page.getByRole('button', { name: 'Continue with my request' }).click();
    await page.getByLabel('Your answer', { exact: true }).fill('A cough for three weeks');
    await page.getByRole('button', { name: 'Continue' }).click();
    await answer(page, '1 to 4 weeks');
    await answer(page, 'No');
    await page.getByRole('button', { name: 'Continue' }).click(); // optional question left blank
    await page.getByRole('heading', { name: 'Photos or documents' }).waitFor();
    await page.setInputFiles('#photos', {
      name: 'rash.png',
      mimeType: 'image/png',
      // a real 1×1 PNG: uploads are checked by their bytes, and re-encoded to drop metadata
      buffer: Buffer.from(
        'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=',
        'base64',
      ),
    });
    await page.getByText('rash.png: uploaded').waitFor({ timeout: 10_000 });
    await page.getByRole('button', { name: 'Continue' }).click();
    await answer(page, 'Myself');
    await page.getByLabel('First name').fill('Pat');
    await page.getByLabel('Last name').fill('Example');
    await page.getByLabel('Date of birth').fill('1980-02-03');
    await page.getByLabel('NHS number (optional)').fill('943 476 5919');
    await page.getByLabel('Mobile or phone number').fill('07700 900123');
    await page.getByLabel('Text message').check();
    await expectNoAxeViolations(page, 'about you');
    await page.getByRole('button', { name: 'Continue' }).click();
    await page.getByRole('heading', { name: 'Check your answers before sending' }).waitFor();
    await page.getByRole('button', { name: 'Send request' }).click();
    await page.getByRole('heading', { name: 'Your request has been sent' }).waitFor({ timeout: 10_000 });
    const reference = /GPC-[A-Z2-9]{8}/.exec(await page.locator('main').innerText())?.[0];
    assert.ok(reference, 'the patient sees a reference');
    await expectNoAxeViolations(page, 'confirmation');
    await page.screenshot({ path: '/tmp/form-done.png', fullPage: true });
    const stored = await db.pool.query<{ kind: string; patient_nhs_number: string }>(
      'SELECT kind, patient_nhs_number FROM consultation WHERE reference = $1',
      [reference],
    );
    assert.deepEqual(stored.rows, [{ kind: 'medical', patient_nhs_number: '9434765919' }]);
    const attached = await db.pool.query<{ content_type: string }>(
      'SELECT a.content_type FROM attachment a JOIN consultation c ON c.id = a.consultation_id WHERE c.reference = $1',
      [reference],
    );
    assert.deepEqual(
      attached.rows,
      [{ content_type: 'image/png' }],
      'the photo went to S3 and joined the request',
    );
  });
});
