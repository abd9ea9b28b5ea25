import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import { seedConsultation, startTriage } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';

// Saturday 28 November 2026, 10:00 in London: the surgery is closed until Monday 08:00
const saturdayMorning = new Date('2026-11-28T10:00:00Z');
const shots = '/tmp/helper-d';

describe('replies in Chromium: nothing closed over an unseen reply, the urgent screen, and overdue requests', async () => {
  const {
    db,
    practiceA: practice,
    as,
    url: triageUrl,
    ...world
  } = await startTriage({ after }, { live: {}, now: () => saturdayMorning });
  const web = await startStaticServer({ triageUrl });
  world.after(() => web.close());
  const browser = await launchBrowser();
  world.after(() => browser.close());
  const clinician = as(practice, 'clinician');

  async function signIn(page: Page): Promise<void> {
    await page.goto(`${web.url}staff.html`);
    await page.getByLabel('Practice code').fill(practice.odsCode);
    await page.getByLabel('Email address').fill(practice.staff.clinician.email);
    await page.getByLabel('Password').fill(practice.staff.clinician.password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();
  }
  /** A request the practice has messaged; the patient's thread link (its hash) and reference. */
  async function messagedRequest(message: string): Promise<{ id: string; reference: string; hash: string }> {
    const id = await seedConsultation(db.pool, practice.id);
    const sent = await clinician.inject({
      method: 'POST',
      url: `/consultations/${id}/messages`,
      payload: { body: message },
    });
    assert.equal(sent.statusCode, 201, sent.body);
    const { rows } = await db.pool.query<{ reference: string }>(
      'SELECT reference FROM consultation WHERE id = $1',
      [id],
    );
    return {
      id,
      reference: rows[0]!.reference,
      hash: new URL(sent.json<{ threadLink: string }>().threadLink).hash,
    };
  }
  async function openThread(hash: string): Promise<Page> {
    const patient = await newLocalPage(browser, { viewport: { width: 390, height: 844 } });
    await patient.goto(`${web.url}thread.html${hash}`);
    await patient.getByLabel('Date of birth').fill('1980-02-03');
    await patient.getByRole('button', { name: 'Continue' }).click();
    await patient.getByRole('heading', { name: /Messages about your request/ }).waitFor();
    return patient;
  }

  it('shows the clinician a reply that came after they opened the request when they press close, and closes only once they have seen it', async () => {
    const { id, reference, hash } = await messagedRequest('Is the rash spreading?');
    const page = await newLocalPage(browser, { viewport: { width: 1280, height: 1000 } });
    await signIn(page);
    await page.getByRole('link', { name: reference }).click();
    await page.locator('#message-list').getByText('Is the rash spreading?').waitFor();

    // the patient replies while the clinician writes the summary
    const patient = await openThread(hash);
    await patient.getByLabel('Reply to your GP surgery').fill('Yes, it is on my neck now');
    await patient.getByRole('radio', { name: 'No', exact: true }).check();
    await patient.getByRole('button', { name: 'Send reply' }).click();
    await patient.locator('#messages').getByText('Yes, it is on my neck now').waitFor();
    await patient.close();

    await page.getByLabel('Outcome').selectOption({ label: 'Review of medication' });
    await page.getByLabel('Summary for the GP record').fill('Rash settling; no further action.');
    await page.getByRole('button', { name: 'Close request' }).click();
    const callout = page.locator('#unseen-replies');
    await callout.getByRole('heading', { name: 'New reply since you opened this request' }).waitFor();
    await callout.getByText('Yes, it is on my neck now').waitFor();
    // the thread is read again with it, and what was written is kept
    await page.locator('#message-list').getByText('Yes, it is on my neck now').waitFor();
    assert.equal(
      await page.getByLabel('Summary for the GP record').inputValue(),
      'Rash settling; no further action.',
    );
    const open = await db.pool.query<{ status: string }>('SELECT status FROM consultation WHERE id = $1', [
      id,
    ]);
    assert.notEqual(open.rows[0]?.status, 'closed', 'not closed over the reply');
    await page.screenshot({ path: `${shots}/dashboard-409-new-reply.png`, fullPage: true });
    await expectNoAxeViolations(page, 'request with a new reply shown at the close');

    // having seen it, the clinician changes the summary and closes
    await page
      .getByLabel('Summary for the GP record')
      .fill('Rash spreading to the neck; booked to be seen today.');
    await page.getByRole('button', { name: 'Close request' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();
    const closed = await db.pool.query<{ status: string; summary: string }>(
      'SELECT status, summary FROM consultation WHERE id = $1',
      [id],
    );
    assert.deepEqual(closed.rows[0], {
      status: 'closed',
      summary: 'Rash spreading to the neck; booked to be seen today.',
    });
    await page.close();
  });

  it('asks the patient whether a reply is urgent, stops a yes with the 999 and NHS 111 advice and sends nothing', async () => {
    const { id, hash } = await messagedRequest('How are you feeling today?');
    const patient = await openThread(hash);
    await patient.getByRole('group', { name: 'Is this urgent?' }).waitFor();
    await patient.getByLabel('Reply to your GP surgery').fill('I have crushing chest pain');
    await patient.screenshot({ path: `${shots}/thread-urgent-question.png`, fullPage: true });
    await expectNoAxeViolations(patient, 'thread with the urgent question');

    // not answered: not sent
    await patient.getByRole('button', { name: 'Send reply' }).click();
    await patient.getByText('Answer whether this is urgent').first().waitFor();

    await patient.getByRole('radio', { name: 'Yes, I need help now' }).check();
    await patient.getByRole('button', { name: 'Send reply' }).click();
    await patient.getByRole('heading', { name: 'Do not send this reply' }).waitFor();
    await patient.getByRole('link', { name: 'Call 999' }).waitFor();
    await patient.getByRole('link', { name: 'Go to 111.nhs.uk' }).waitFor();
    await patient.getByText(/call NHS 111 or go to 111\.nhs\.uk, or call your GP surgery/).waitFor();
    await patient.screenshot({ path: `${shots}/thread-urgent-stop.png`, fullPage: true });
    await expectNoAxeViolations(patient, 'urgent stop on the thread');
    const sent = await db.pool.query(
      "SELECT 1 FROM message WHERE consultation_id = $1 AND author = 'patient'",
      [id],
    );
    assert.equal(sent.rowCount, 0, 'nothing was sent');
    await patient.close();
  });

  it('tells the patient replying on a Saturday that the surgery will read it from 8:00am on Monday', async () => {
    const { hash } = await messagedRequest('Please send a photo');
    const patient = await openThread(hash);
    await patient.getByLabel('Reply to your GP surgery').fill('I will send one later');
    await patient.getByRole('radio', { name: 'No', exact: true }).check();
    await patient.getByRole('button', { name: 'Send reply' }).click();
    await patient
      .getByText(
        'Your surgery is closed now. They will read your message from 8:00am on Monday 30 November.',
        {
          exact: false,
        },
      )
      .waitFor();
    await patient.screenshot({ path: `${shots}/thread-out-of-hours.png`, fullPage: true });
    await patient.close();
  });

  it('tags and counts a request as overdue when it falls due while the queue is open, with no event', async () => {
    await db.pool.query('DELETE FROM consultation WHERE practice_id = $1', [practice.id]);
    // an urgent request (the target is 60 minutes) due 4 seconds after the dashboard first reads the
    // queue, however long signing in took on a busy machine, and one already overdue
    const falling = await seedConsultation(db.pool, practice.id);
    await db.pool.query(`UPDATE consultation SET priority = 'urgent' WHERE id = $1`, [falling]);
    const late = await seedConsultation(db.pool, practice.id);
    await db.pool.query(
      `UPDATE consultation SET priority = 'soon', created_at = now() - interval '5 hours' WHERE id = $1`,
      [late],
    );
    const references = await db.pool.query<{ id: string; reference: string }>(
      'SELECT id, reference FROM consultation WHERE id = ANY($1)',
      [[falling, late]],
    );
    const row = (page: Page, id: string) =>
      page.getByRole('row').filter({
        has: page.getByRole('link', { name: references.rows.find((found) => found.id === id)!.reference }),
      });

    const page = await newLocalPage(browser, { viewport: { width: 1280, height: 900 } });
    let dueSoon: Promise<unknown> | undefined;
    await page.route('**/api/consultations**', async (route) => {
      dueSoon ??= db.pool.query(
        `UPDATE consultation SET created_at = now() - interval '60 minutes' + interval '4 seconds' WHERE id = $1`,
        [falling],
      );
      await dueSoon;
      await route.continue();
    });
    await signIn(page);
    await row(page, late).getByText('Overdue').waitFor();
    await page.getByText('1 request has not been actioned within the practice’s response time.').waitFor();
    assert.equal(await row(page, falling).getByText('Overdue').count(), 0, 'not due yet');

    await row(page, falling).getByText('Overdue').waitFor({ timeout: 15_000 });
    await page.getByText('2 requests have not been actioned within the practice’s response time.').waitFor();
    await page.screenshot({ path: `${shots}/queue-overdue.png`, fullPage: true });
    await expectNoAxeViolations(page, 'queue with overdue requests');
    await page.close();
  });
});
