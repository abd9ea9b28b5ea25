import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import type { StaffRole } from '@gpc/contracts';
import { startTriage, testSecretsKeyring } from '@gpc/test-support';
import { expectNoAxeViolations } from './support/axe';
import { collectPageErrors, launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';

/** Where the page's screenshots go, to be looked at. */
const screenshot = (name: string) => path.join(tmpdir(), `gpc-settings-${name}.png`);

/** A moment as a `datetime-local` value on London's wall clock (the practice's time zone). */
function londonWallClock(at: Date): string {
  const parts = new Intl.DateTimeFormat('en-CA', {
    timeZone: 'Europe/London',
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
  }).formatToParts(at);
  const get = (type: string) => parts.find((part) => part.type === type)?.value ?? '';
  return `${get('year')}-${get('month')}-${get('day')}T${get('hour')}:${get('minute')}`;
}

/** The whole page, and each of its sections on its own (a long page's full shot is too small to read). */
async function screenshots(page: Page, name: string): Promise<void> {
  await page.screenshot({ path: screenshot(name), fullPage: true });
  for (const section of await page.locator('#settings > section:visible').all()) {
    const id = await section.getAttribute('id');
    await section.screenshot({ path: screenshot(`${name}-${id}`) });
  }
}

describe('practice settings page in Chromium: an admin changes the practice’s settings, and no one else can', async () => {
  const {
    db,
    practiceA: practice,
    url: triageUrl,
    as,
    ...world
  } = await startTriage({ after }, { listen: true });
  const web = await startStaticServer({ triageUrl });
  world.after(() => web.close());
  const browser = await launchBrowser();
  world.after(() => browser.close());

  async function signIn(role: StaffRole, page?: Page): Promise<Page> {
    const opened =
      page ??
      (await newLocalPage(browser, { viewport: { width: 1100, height: 900 }, acceptDownloads: true }));
    await opened.goto(`${web.url}settings.html`);
    await opened.getByLabel('Practice code').fill(practice.odsCode);
    await opened.getByLabel('Email address').fill(practice.staff[role].email);
    await opened.getByLabel('Password').fill(practice.staff[role].password);
    await opened.getByRole('button', { name: 'Sign in' }).click();
    return opened;
  }

  const practiceRow = async () =>
    (
      await db.pool.query<{
        opening_hours: Record<string, [string, string][]>;
        response_time_message: string | null;
      }>('SELECT opening_hours, response_time_message FROM practice WHERE id = $1', [practice.id])
    ).rows[0]!;

  it('lets an admin change the opening hours and the response time message, which are still there after a reload', async () => {
    const page = await signIn('admin');
    const errors = collectPageErrors(page);
    await page.getByRole('heading', { name: 'Practice settings', exact: true }).waitFor();
    await page.screenshot({ path: screenshot('loaded'), fullPage: true });
    await expectNoAxeViolations(page, 'settings page');

    const monday = page.getByRole('group', { name: 'Monday' });
    await monday.getByLabel('Monday Opens').first().fill('07:30');
    await monday.getByLabel('Monday Closes').first().fill('19:00');
    const saturday = page.getByRole('group', { name: 'Saturday' });
    await saturday.getByRole('button', { name: 'Add opening period on Saturday' }).click();
    await saturday.getByLabel('Saturday Opens').fill('9:00');
    await saturday.getByLabel('Saturday Closes').fill('12:00');
    await page.getByRole('button', { name: 'Save opening hours' }).click();
    await page.getByRole('alert').getByText('Opening hours have been saved').waitFor();

    await page
      .getByLabel('What patients are told about when to expect a reply')
      .fill('We reply to every request within two working days.');
    await page.getByRole('button', { name: 'Save response time message' }).click();
    await page.getByRole('alert').getByText('The response time message has been saved').waitFor();
    await screenshots(page, 'saved');
    await expectNoAxeViolations(page, 'settings page with the success banner');

    const row = await practiceRow();
    assert.deepEqual(row.opening_hours.mon, [['07:30', '19:00']]);
    assert.deepEqual(row.opening_hours.sat, [['09:00', '12:00']]);
    assert.equal(row.response_time_message, 'We reply to every request within two working days.');

    // the tab's session comes back with the reload: no second sign-in, and what was saved is shown
    await page.reload();
    await page.getByRole('heading', { name: 'Practice settings', exact: true }).waitFor();
    assert.equal(await page.getByLabel('Monday Opens').first().inputValue(), '07:30');
    assert.equal(await page.getByLabel('Monday Closes').first().inputValue(), '19:00');
    assert.equal(await page.getByLabel('Saturday Opens').inputValue(), '09:00');
    assert.equal(
      await page.getByLabel('What patients are told about when to expect a reply').inputValue(),
      'We reply to every request within two working days.',
    );
    assert.deepEqual(errors, []);
    await page.close();
  });

  it('shows the server’s refusal, and its own checks, in the error summary linked to the field', async () => {
    const page = await signIn('admin');
    await page.getByRole('heading', { name: 'Practice settings', exact: true }).waitFor();
    const tuesday = page.getByRole('group', { name: 'Tuesday' });
    // a period that ends before it starts is the server's rule, in its own words
    await tuesday.getByLabel('Tuesday Opens').first().fill('18:00');
    await tuesday.getByLabel('Tuesday Closes').first().fill('08:00');
    await page.getByRole('button', { name: 'Save opening hours' }).click();
    const summary = page.locator('#error-summary');
    await summary.getByRole('link', { name: /each period must end after it starts/ }).waitFor();
    assert.ok(await summary.isVisible());
    await screenshots(page, 'server-error');
    await expectNoAxeViolations(page, 'settings page with a server refusal');
    assert.deepEqual((await practiceRow()).opening_hours.tue, [['08:00', '18:30']], 'nothing saved');

    // a time that is not a time is caught before anything is sent, next to its field too
    await tuesday.getByLabel('Tuesday Opens').first().fill('eight');
    await page.getByRole('button', { name: 'Save opening hours' }).click();
    await summary
      .getByRole('link', { name: 'Tuesday: enter the opening time as hours and minutes, like 08:00' })
      .click();
    assert.equal(await page.evaluate(() => document.activeElement?.getAttribute('data-period')), 'from');
    await tuesday.locator('.nhsuk-error-message').getByText('enter the opening time').waitFor();
    await expectNoAxeViolations(page, 'settings page with an error next to a field');
    await page.close();
  });

  it('lets an admin pause online requests with a reason, shows who and why, gives the report, and ends it early', async () => {
    // the admin's computer is in another time zone: the pause ends at the practice's time they typed
    const page = await signIn(
      'admin',
      await newLocalPage(browser, {
        viewport: { width: 1100, height: 900 },
        acceptDownloads: true,
        timezoneId: 'America/New_York',
      }),
    );
    await page.getByRole('heading', { name: 'Practice settings', exact: true }).waitFor();
    await page
      .getByText('Only pause in exceptional circumstances agreed with your integrated care board')
      .waitFor();

    // the reason is required
    await page.getByRole('button', { name: 'Pause online requests' }).click();
    await page.locator('#error-summary').getByText('Say why you are pausing online requests').waitFor();

    const reason = 'Clinical system outage; pause agreed with the ICB duty manager';
    await page.getByLabel('Why are you pausing online requests?').fill(reason);
    const until = new Date(Math.floor(Date.now() / 60_000) * 60_000 + 2 * 3_600_000);
    await page.getByLabel('Pause until').fill(londonWallClock(until));
    await page.getByRole('button', { name: 'Pause online requests' }).click();
    await page
      .getByRole('alert')
      .getByText(/^Online requests are paused until /)
      .waitFor();
    const inForce = page.locator('#pause-in-force');
    await inForce.getByText(/^Online requests are paused until /).waitFor();
    await inForce.getByText(reason).waitFor();
    await inForce.getByText(practice.staff.admin.name).waitFor();
    await screenshots(page, 'paused');
    await expectNoAxeViolations(page, 'settings page with a pause in force');
    const { rows: pauses } = await db.pool.query<{ reason: string; paused_by: string; ends_at: Date }>(
      'SELECT reason, paused_by, ends_at FROM practice_pause WHERE practice_id = $1',
      [practice.id],
    );
    assert.deepEqual(pauses, [{ reason, paused_by: practice.staff.admin.id, ends_at: until }]);

    const download = page.waitForEvent('download');
    await page.getByRole('link', { name: 'Download pause report (CSV)' }).click();
    const report = await readFile(await (await download).path(), 'utf8');
    assert.match(report, /^practice_ods_code,practice_name,paused_by,reason,/);
    assert.ok(report.includes(reason), 'the report lists the pause with its reason');

    await page.getByRole('button', { name: 'End pause now' }).click();
    await page.getByRole('alert').getByText('The pause has ended').waitFor();
    assert.equal(await inForce.count(), 0);
    await page.locator('#pause-rows').getByText(`by ${practice.staff.admin.name}`).waitFor();
    await page.getByRole('button', { name: 'Pause online requests' }).waitFor();
    await page.screenshot({ path: screenshot('pause-ended'), fullPage: true });
    await page.close();
  });

  it('lets an admin add, reorder and remove care navigation rules, set the response targets and NHS login, and set the GP record endpoint without showing its secret', async () => {
    const page = await signIn('admin');
    await page.getByRole('heading', { name: 'Practice settings', exact: true }).waitFor();
    await page.getByText('No rules: new requests wait in the queue').waitFor();
    await page.getByLabel('Type of request').selectOption('admin');
    await page
      .getByLabel('Assign to')
      .selectOption({ label: `${practice.staff.reception.name} (reception)` });
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('alert').getByText('The rule has been added').waitFor();
    await page.getByLabel('Type of request').selectOption('medical');
    await page
      .getByLabel('Assign to')
      .selectOption({ label: `${practice.staff.clinician.name} (clinician)` });
    await page.getByLabel('Set priority').selectOption('soon');
    await page.getByRole('button', { name: 'Add rule' }).click();
    await page.locator('#rules-rows').getByText('Medical requests').waitFor();
    await page.getByRole('button', { name: 'Move up rule 2' }).click();
    await page.getByRole('alert').getByText('Care navigation rules have been saved').waitFor();
    const rules = async () =>
      (await as(practice, 'admin').inject({ method: 'GET', url: '/navigation-rules' })).json<
        { matchKind?: string }[]
      >();
    assert.deepEqual(
      (await rules()).map((rule) => rule.matchKind),
      ['medical', 'admin'],
    );
    await page.screenshot({ path: screenshot('rules'), fullPage: true });
    await page.getByRole('button', { name: 'Remove rule 2' }).click();
    await page.getByRole('alert').getByText('Care navigation rules have been saved').waitFor();
    await page.locator('#rules-rows tr').nth(1).waitFor({ state: 'detached' });
    assert.deepEqual(
      (await rules()).map((rule) => rule.matchKind),
      ['medical'],
    );

    const secret = 'a-bearer-token-nobody-should-see-again';
    await page.getByLabel('FHIR base URL').fill('https://gp-system.example.org/fhir/R4');
    await page.getByLabel('A bearer token').check();
    await page.getByLabel('Token', { exact: true }).fill(secret);
    await page.getByRole('button', { name: 'Save GP record endpoint' }).click();
    await page.getByRole('alert').getByText('The GP record endpoint has been saved').waitFor();
    await page.locator('#fhir-summary').getByText('Token set').waitFor();

    // the response target for urgent requests, and NHS login offered on the form
    await page.getByLabel('Urgent requests, in minutes').fill('30');
    await page.getByRole('button', { name: 'Save response targets' }).click();
    await page.getByRole('alert').getByText('Response targets have been saved').waitFor();
    await page.getByText('Now 30 minutes.').waitFor();
    await page.getByLabel('Offer “Continue with NHS login” on the online form').check();
    await page.getByRole('button', { name: 'Save NHS login choice' }).click();
    await page.getByRole('alert').getByText('The online form now offers NHS login').waitFor();
    const saved = (await as(practice, 'admin').inject({ method: 'GET', url: '/practice' })).json<{
      responseTargets: { urgent: number };
      nhsLoginOffered: boolean;
    }>();
    assert.equal(saved.responseTargets.urgent, 30);
    assert.equal(saved.nhsLoginOffered, true);
    await screenshots(page, 'record-endpoint');
    await expectNoAxeViolations(page, 'settings page after the rules and the endpoint');
    assert.ok(!(await page.content()).includes(secret), 'the token is never put back in the page');
    const { rows } = await db.pool.query<{
      fhir_base_url: string;
      fhir_auth: { type: string; token: string };
    }>('SELECT fhir_base_url, fhir_auth FROM practice WHERE id = $1', [practice.id]);
    assert.equal(rows[0]?.fhir_base_url, 'https://gp-system.example.org/fhir/R4');
    // stored encrypted for this practice, under the test key (triage/test/secrets-at-rest.test.ts)
    assert.equal(rows[0]?.fhir_auth.type, 'bearer');
    assert.match(rows[0]?.fhir_auth.token ?? '', /^enc:v1:test-1:/);
    assert.equal(
      testSecretsKeyring.open(rows[0].fhir_auth.token, {
        practiceId: practice.id,
        field: 'fhir_auth.token',
      }),
      secret,
    );
    await page.close();
  });

  it('lets an admin send summaries by GP Connect Send Document over MESH to the GP system’s mailbox, says what is missing, and go back to FHIR R4', async () => {
    const page = await signIn('admin');
    const transportRow = async () =>
      (
        await db.pool.query<{ write_back_transport: string; mesh_recipient_mailbox: string | null }>(
          'SELECT write_back_transport, mesh_recipient_mailbox FROM practice WHERE id = $1',
          [practice.id],
        )
      ).rows[0]!;
    await page.locator('#transport-summary').getByText('FHIR R4').waitFor();
    await page.getByLabel('GP Connect Send Document over MESH').check();
    await page.getByRole('button', { name: 'Save how summaries are sent' }).click();
    await page
      .getByRole('link', { name: "Enter the GP system's MESH mailbox ID, or route by the patient" })
      .waitFor();
    assert.equal((await transportRow()).write_back_transport, 'fhir-r4', 'nothing saved');

    await page.getByLabel("The GP system's MESH mailbox ID").fill('A81002GP01');
    await page.getByRole('button', { name: 'Save how summaries are sent' }).click();
    await page.getByRole('alert').getByText('How summaries are sent has been saved').waitFor();
    await page.locator('#transport-summary').getByText('MESH mailbox A81002GP01').waitFor();
    assert.deepEqual(await transportRow(), {
      write_back_transport: 'gp-connect-send-document',
      mesh_recipient_mailbox: 'A81002GP01',
    });
    await screenshots(page, 'record-transport');
    await expectNoAxeViolations(page, 'settings page with Send Document chosen');

    await page.reload();
    await page.locator('#transport-summary').getByText('GP Connect Send Document over MESH').waitFor();
    assert.equal(await page.getByLabel('GP Connect Send Document over MESH').isChecked(), true);
    await page.getByLabel('FHIR R4 (the endpoint above)').check();
    await page.getByRole('button', { name: 'Save how summaries are sent' }).click();
    await page.getByRole('alert').getByText('How summaries are sent has been saved').waitFor();
    assert.deepEqual(await transportRow(), { write_back_transport: 'fhir-r4', mesh_recipient_mailbox: null });
    await page.close();
  });

  it('tells a receptionist they need an admin (triage refuses them too), and links only admins to it from the dashboard', async () => {
    const page = await signIn('reception');
    await page.getByRole('heading', { name: 'You need to be a practice admin' }).waitFor();
    assert.equal(await page.getByRole('heading', { name: 'Practice settings', exact: true }).count(), 0);
    await expectNoAxeViolations(page, 'settings page refused');
    await page.screenshot({ path: screenshot('not-admin'), fullPage: true });
    assert.equal(
      (await as(practice, 'reception').inject({ method: 'GET', url: '/practice' })).statusCode,
      403,
    );
    assert.equal(
      (await as(practice, 'clinician').inject({ method: 'GET', url: '/practice/pauses' })).statusCode,
      403,
    );

    // the dashboard: no link for the receptionist; the admin's link opens the settings, still signed in
    await page.goto(`${web.url}staff.html`);
    await page.getByRole('heading', { name: 'Requests' }).waitFor();
    assert.equal(await page.getByRole('link', { name: 'Practice settings' }).count(), 0);
    await page.close();
    const admin = await newLocalPage(browser, { viewport: { width: 1100, height: 900 } });
    await admin.goto(`${web.url}staff.html`);
    await admin.getByLabel('Practice code').fill(practice.odsCode);
    await admin.getByLabel('Email address').fill(practice.staff.admin.email);
    await admin.getByLabel('Password').fill(practice.staff.admin.password);
    await admin.getByRole('button', { name: 'Sign in' }).click();
    await admin.getByRole('link', { name: 'Practice settings' }).click();
    await admin.getByRole('heading', { name: 'Practice settings', exact: true }).waitFor();
    await admin.close();
  });
});
