import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { Page } from 'playwright-core';
import {
  createWriteBackAnnouncer,
  createWriteBackQueue,
  FhirClient,
  startWriteBackWorker,
} from '@gpc/record';
import {
  compositionsFor,
  seedConsultation,
  startFaultProxy,
  startLocalFhir,
  startMailRelay,
  startTriage,
  testRedisUrl as redisUrl,
  localOutbound,
  waitFor,
} from '@gpc/test-support';
import { StaffLive } from '@gpc/contracts/staff-live';
import { seedPatients } from '@gpc/local-pds-server/seed';
import { expectNoAxeViolations } from './support/axe';
import { startCallNode } from '../../signalling/test/support/call-node';
import { launchBrowser, newLocalPage } from './support/browser';
import { joinAsPatient, mediaFlows } from './support/call';
import { startStaticServer } from './support/static';

/**
 * Whether the page's live queue feed has connected: socket.io's answer to joining the staff namespace,
 * which triage sends once the socket is in its practice's room, by long-polling or over the WebSocket.
 * Watched from before the page signs in.
 */
function watchLiveFeed(page: Page): () => boolean {
  let connected = false;
  const answer = (payload: string) => {
    if (payload.includes(`40${StaffLive.namespace},{"sid"`)) connected = true;
  };
  page.on('response', (response) => {
    if (response.url().includes(`${StaffLive.path}/`)) response.text().then(answer, () => undefined);
  });
  page.on('websocket', (socket) => {
    if (socket.url().includes(`${StaffLive.path}/`))
      socket.on('framereceived', (frame) => answer(String(frame.payload)));
  });
  return () => connected;
}

describe('staff dashboard in Chromium: sign in, live queue, assign, close, and the summary into the GP record', async () => {
  const queuePrefix = `gpc-test-${randomUUID()}`;
  const {
    app: triage,
    db,
    practiceA: practice,
    url: triageUrl,
    as,
    ...world
  } = await startTriage(
    { after },
    {
      writeBackQueue: { prefix: queuePrefix },
      live: 'redis',
      notifications: { prefix: queuePrefix, sweepIntervalMs: 0 },
      now: () => new Date('2026-07-13T09:00:00Z'),
      // patients are traced against the local PDS; a summary is filed once staff confirm the patient
      pds: true,
    },
  );
  // the record worker as production runs it, filing into the local FHIR server through a proxy
  // that can play a GP system refusing a summary
  const fhir = await startLocalFhir();
  world.after(() => fhir.server.close());
  const proxy = await startFaultProxy(fhir.base);
  world.after(() => proxy.close());
  await db.pool.query('UPDATE practice SET fhir_base_url = $1 WHERE id = $2', [proxy.url, practice.id]);
  const mailRelay = await startMailRelay();
  world.after(() => mailRelay.close());
  await db.pool.query('UPDATE practice SET notification_settings = $1 WHERE id = $2', [
    JSON.stringify({
      provider: 'smtp',
      host: '127.0.0.1',
      port: mailRelay.port,
      secure: false,
      from: 'Riverside Surgery <riverside@example.org>',
    }),
    practice.id,
  ]);
  const queue = createWriteBackQueue(redisUrl, {
    prefix: queuePrefix,
    retry: { baseDelayMs: 200, maxDelayMs: 2000 },
  });
  const worker = startWriteBackWorker({
    queue,
    pool: db.pool,
    fhir: new FhirClient({ timeoutMs: 5000, outbound: localOutbound }),
    readDocument: () => Promise.reject(new Error('no attachments in these tests')),
    logger: pino({ level: 'silent' }),
    concurrency: 4,
    practiceConcurrency: 4,
    maxAttempts: 5,
    sweepIntervalMs: 0,
    sweepAfterMs: 60_000,
    announce: createWriteBackAnnouncer(queue.client, pino({ level: 'silent' })),
  });
  world.after(() => worker.close());
  // the call node verifies the call tokens triage signs with triage's published keys
  const callNode = await startCallNode({
    jwksUrl: `${triageUrl}/.well-known/jwks.json`,
    // call data (joins, leaves, media paths, quality) goes to triage with the call node's own key
    callEvents: { triageUrl, key: world.callNodeKey },
  });
  world.after(() => callNode.close());
  const web = await startStaticServer({ triageUrl, signallingUrl: callNode.url });
  world.after(() => web.close());
  const browser = await launchBrowser();
  world.after(() => browser.close());

  async function signIn(page: Page, role: 'clinician' | 'admin'): Promise<void> {
    await page.goto(`${web.url}staff.html`);
    await page.getByLabel('Practice code').fill('A81001');
    await page.getByLabel('Email address').fill(practice.staff[role].email);
    await page.getByLabel('Password').fill(practice.staff[role].password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Requests' }).waitFor();
  }

  it('shows a new request without reloading, and takes it from assignment to a coded close', async () => {
    const page = await newLocalPage(browser, { viewport: { width: 1280, height: 900 } });
    const liveFeedConnected = watchLiveFeed(page);
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
    // the request below must come by the live feed, not by the first load of the queue
    await waitFor('the dashboard’s live feed to connect', liveFeedConnected, { timeoutMs: 15_000 });

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
          nhsNumber: seedPatients.robinSample.nhsNumber,
          phone: '07700 900456',
          email: 'robin.sample@example.org',
        },
        submittedBy: { type: 'patient' },
        preferredContact: 'email',
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
    await page.getByRole('button', { name: 'Assign to me' }).waitFor({ state: 'hidden' });
    await page.getByLabel('Priority').selectOption('urgent');
    await page.locator('#detail-list').getByText('in progress, urgent').waitFor();
    // PDS verified the patient's details: a clinician confirms them, so the summary may be filed
    await page.locator('#identity-list').getByText('Verified by PDS').waitFor({ timeout: 15_000 });
    await page.getByRole('button', { name: 'Confirm patient' }).click();
    await page
      .locator('#identity-list')
      .getByText(/^By .+ on /)
      .waitFor();
    await page.screenshot({ path: '/tmp/staff-detail.png', fullPage: true });
    await expectNoAxeViolations(page, 'request detail');

    // a message to the patient, who opens the link, proves their date of birth and replies
    await page.getByLabel('Message to the patient').fill('Which inhaler is it, the blue or the brown one?');
    await page.getByRole('button', { name: 'Send message' }).click();
    // the practice's mail relay takes the link to the patient; the dashboard follows it there
    await page
      .locator('#notification-list')
      .getByText(/^Email to robin\.sample@example\.org: sent /)
      .waitFor({ timeout: 15_000 });
    assert.ok(await page.locator('#thread-link-row').isHidden(), 'no link for staff to send by hand');
    await page.screenshot({ path: '/tmp/staff-message-sent.png', fullPage: true });
    await expectNoAxeViolations(page, 'request with a link sent to the patient');
    const email = mailRelay.received.find((mail) => mail.to.includes('robin.sample@example.org'));
    assert.ok(email, 'the patient was emailed');
    const threadLink = /http\S+thread\.html#t=\S+/.exec(email.text)?.[0] ?? '';
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
    await patient.getByRole('radio', { name: 'No', exact: true }).check();
    await patient.getByRole('button', { name: 'Send reply' }).click();
    await patient.getByText('The blue one').waitFor();
    await patient.screenshot({ path: '/tmp/thread-patient.png', fullPage: true });
    await page.locator('#message-list').getByText('The blue one').waitFor({ timeout: 10_000 });

    // a video call from the request: triage makes it and the host token, and the clinician is in
    const callTab = page.context().waitForEvent('page');
    await page.getByRole('button', { name: 'Start video call' }).click();
    const clinicianTab = await callTab;
    await clinicianTab.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, {
      timeout: 15_000,
    });
    const callLink = (await page.locator('#call-link').getAttribute('href')) ?? '';
    assert.match(callLink, /\/call\.html#t=/);
    // the patient joins by the link, is admitted, and leaves: call data for the request, with the
    // media path each page took and a quality summary from each, lands in PostgreSQL
    const callPatient = await newLocalPage(browser);
    await joinAsPatient(callPatient, web.url, callLink);
    await clinicianTab.getByRole('button', { name: 'Admit Robin Sample' }).click();
    await callPatient.locator('#step-call').waitFor({ state: 'visible', timeout: 15_000 });
    await mediaFlows(callPatient, 'patient in the call from the request');
    const callData = (query: string) =>
      db.pool.query<{ role: string; media_path: string | null }>(
        `SELECT DISTINCT a.role, a.media_path FROM video_call_attendance a
           JOIN video_call vc ON vc.id = a.call_id JOIN consultation c ON c.id = vc.consultation_id
          WHERE c.reference = $1 ${query} ORDER BY a.role`,
        [reference],
      );
    await waitFor(
      'a quality summary with its media path from each page, in PostgreSQL',
      async () =>
        (await callData('AND EXISTS (SELECT 1 FROM video_call_quality q WHERE q.attendance_id = a.id)')).rows
          .length === 2,
      { timeoutMs: 30_000 },
    );
    await callPatient.locator('#leave').click();
    await clinicianTab.close();
    await waitFor(
      'both leaves recorded',
      async () => (await callData('AND a.left_at IS NOT NULL')).rowCount === 2,
      { timeoutMs: 20_000 },
    );
    // every path a page reported (a connection rebuilt before its first report has none)
    assert.deepEqual((await callData('AND a.media_path IS NOT NULL')).rows, [
      { role: 'clinician', media_path: 'udp' },
      { role: 'patient', media_path: 'udp' },
    ]);
    // the patient let in by Admit (the clinician is in as they join): the request has been actioned
    assert.deepEqual(
      (await callData('AND a.admitted_at IS NOT NULL')).rows.map((row) => row.role),
      ['clinician', 'patient'],
    );

    // no outcome is chosen for the clinician: closing without one is refused, saying so
    assert.equal(await page.getByLabel('Outcome').inputValue(), '', 'no outcome preselected');
    await page.getByLabel('Summary for the GP record').fill('Repeat inhaler issued; review in 6 months.');
    await page.getByRole('button', { name: 'Close request' }).click();
    await page.getByText('Choose an outcome for the GP record').first().waitFor();
    await page.getByLabel('Outcome').selectOption({ label: 'Review of medication' });
    // the reply came in by a live update after the request was opened: the first close shows it instead
    await page.getByRole('button', { name: 'Close request' }).click();
    await page.locator('#unseen-replies').getByText('The blue one').waitFor();
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

    // the summary reaches the GP record, and the dashboard says so without a reload
    await page.getByLabel('Show').selectOption('closed');
    const closedRow = page.getByRole('row').filter({ has: page.getByRole('link', { name: reference }) });
    await closedRow.getByRole('cell', { name: 'Filed', exact: true }).waitFor({ timeout: 15_000 });
    await closedRow.getByRole('link', { name: reference }).click();
    await page
      .locator('#record-list')
      .getByText(/^Filed in the GP record on /)
      .waitFor();
    await page
      .locator('#record-list')
      .getByText(/^Encounter\/.+, Composition\//)
      .waitFor();
    // the request shows its video call: who joined, was let in and left, over which path, and how well
    const patientInCall = page.locator('#call-list .nhsuk-summary-list__row', {
      hasText: 'Robin Sample (patient)',
    });
    await patientInCall.waitFor();
    if (process.env.GPC_SCREENSHOT_DIR) {
      await patientInCall.scrollIntoViewIfNeeded();
      await page.screenshot({ path: `${process.env.GPC_SCREENSHOT_DIR}/staff-request-call-data.png` });
    }
    assert.match(
      await patientInCall.innerText(),
      /Joined \d\d:\d\d; admitted \d\d:\d\d; left \d\d:\d\d \(left the call\); media direct \(UDP\); received \d+ kbps, sent \d+ kbps, [\d.]+% loss/,
    );
    await page
      .locator('#call-list .nhsuk-summary-list__row', {
        hasText: `${practice.staff.clinician.name} (clinician)`,
      })
      .waitFor();
    await page.screenshot({ path: '/tmp/staff-filed.png', fullPage: true });
    await expectNoAxeViolations(page, 'closed request, filed');
    const filed = await compositionsFor(fhir.base, rows[0].id);
    assert.equal(filed.length, 1, 'one Composition in the GP record');
    assert.match(JSON.stringify(filed[0]?.section), /Repeat inhaler issued; review in 6 months\./);
  });

  it('lets staff record a missing NHS number, and an admin send a refused summary again once it is fixed', async () => {
    const unmatched = await seedConsultation(db.pool, practice.id, { nhsNumber: null });
    const refused = await seedConsultation(db.pool, practice.id);
    proxy.setRule((body) =>
      body.includes(refused)
        ? { kind: 'status', status: 422, text: 'Patient 9434765919 is not registered at this practice' }
        : { kind: 'pass' },
    );
    for (const id of [unmatched, refused]) {
      const closed = await triage.inject({
        method: 'POST',
        url: `/consultations/${id}/close`,
        headers: as(practice, 'clinician').headers,
        payload: { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'Reviewed.' },
      });
      assert.equal(closed.statusCode, 200, closed.body);
    }
    const references = await db.pool.query<{ id: string; reference: string }>(
      'SELECT id, reference FROM consultation WHERE id = ANY($1)',
      [[unmatched, refused]],
    );
    const referenceOf = (id: string) => references.rows.find((row) => row.id === id)!.reference;

    const page = await newLocalPage(browser, { viewport: { width: 1280, height: 900 } });
    await signIn(page, 'admin');
    const attention = page.locator('#record-attention');
    await attention.getByRole('link', { name: referenceOf(unmatched) }).waitFor();
    await attention.getByRole('link', { name: referenceOf(refused) }).waitFor({ timeout: 15_000 });
    await page.screenshot({ path: '/tmp/staff-record-attention.png', fullPage: true });
    await expectNoAxeViolations(page, 'queue with summaries not filed');

    // no NHS number: nothing is filed until someone records it, and a mistyped one is refused
    await attention.getByRole('link', { name: referenceOf(unmatched) }).click();
    await page
      .locator('#record-list')
      .getByText(/^Not filed: there is no NHS number/)
      .waitFor();
    await page.getByLabel("Patient's NHS number").fill('943 476 5918');
    await page.getByRole('button', { name: 'Save and trace the patient' }).click();
    await page
      .locator('#match-error')
      .getByText(/not a valid NHS number/)
      .waitFor();
    await page.screenshot({ path: '/tmp/staff-patient-match.png', fullPage: true });
    await expectNoAxeViolations(page, 'patient match with an error');
    assert.equal((await compositionsFor(fhir.base, unmatched)).length, 0, 'never filed against a guess');
    await page.getByLabel("Patient's NHS number").fill('943 476 5919');
    await page.getByRole('button', { name: 'Save and trace the patient' }).click();
    // the number is traced; once PDS verifies it, the patient is confirmed and the summary filed
    await page.locator('#identity-list').getByText('Verified by PDS').waitFor({ timeout: 15_000 });
    assert.equal((await compositionsFor(fhir.base, unmatched)).length, 0, 'not filed before confirmation');
    await page.screenshot({ path: '/tmp/staff-identity-verified.png', fullPage: true });
    await page.getByRole('button', { name: 'Confirm patient' }).click();
    await page
      .locator('#record-list')
      .getByText(/^Filed in the GP record on /)
      .waitFor({ timeout: 15_000 });
    assert.equal((await compositionsFor(fhir.base, unmatched)).length, 1);

    // refused by the GP system: its words are shown, and the admin sends it again after the fix
    await page.getByRole('link', { name: 'Back to requests' }).click();
    await attention.getByRole('link', { name: referenceOf(refused) }).click();
    await page.locator('#record-list').getByText('Not filed: the GP system refused it').waitFor();
    await page
      .locator('#record-list')
      .getByText('422: Patient 9434765919 is not registered at this practice')
      .waitFor();
    await page.screenshot({ path: '/tmp/staff-record-refused.png', fullPage: true });
    await expectNoAxeViolations(page, 'refused summary');
    proxy.setRule(() => ({ kind: 'pass' }));
    await page.getByRole('button', { name: 'Send to the GP record again' }).click();
    await page
      .locator('#record-list')
      .getByText(/^Filed in the GP record on /)
      .waitFor({ timeout: 15_000 });
    assert.equal((await compositionsFor(fhir.base, refused)).length, 1);
    await page.getByRole('link', { name: 'Back to requests' }).click();
    await attention.waitFor({ state: 'hidden' });
  });

  /** A new request in the practice's queue, and a clinician's dashboard showing it (its row). */
  async function dashboardWithNewRequest() {
    const id = await seedConsultation(db.pool, practice.id);
    const { rows } = await db.pool.query<{ reference: string }>(
      'SELECT reference FROM consultation WHERE id = $1',
      [id],
    );
    const reference = rows[0]!.reference;
    const page = await newLocalPage(browser, { viewport: { width: 1280, height: 900 } });
    await signIn(page, 'clinician');
    const row = page.locator('#queue-rows tr', { hasText: reference });
    await row.waitFor();
    return { id, reference, page, row };
  }

  it('shows the newest queue when the answers to two loads arrive out of order', async () => {
    const { reference, page } = await dashboardWithNewRequest();
    // the closed list answers slowly: it arrives after the open list asked for later
    await page.route('**/consultations?status=closed', async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue();
    });
    const slowAnswer = page.waitForResponse('**/consultations?status=closed');
    await page.getByLabel('Show').selectOption('closed');
    await page.getByLabel('Show').selectOption('open');
    await slowAnswer;
    await new Promise((resolve) => setTimeout(resolve, 300)); // the late answer would be drawn by now
    assert.equal(await page.getByLabel('Show').inputValue(), 'open');
    assert.equal(await page.getByRole('link', { name: reference }).count(), 1, 'the open request is listed');
  });

  it('keeps the list right through a burst of changes made elsewhere, loading it a few times rather than once for each', async () => {
    const { id, page, row } = await dashboardWithNewRequest();
    let loads = 0;
    page.on('request', (request) => {
      if (request.url().includes('/consultations?status=new')) loads++;
    });
    // a colleague changes the request 41 times in a row: 41 live changes for this page
    const admin = as(practice, 'admin');
    const started = Date.now();
    for (let n = 0; n < 41; n++) {
      const priority = n % 2 === 0 ? 'urgent' : 'routine';
      const changed = await admin.inject({
        method: 'PATCH',
        url: `/consultations/${id}`,
        payload: { priority },
      });
      assert.equal(changed.statusCode, 200, changed.body);
    }
    const burstMs = Date.now() - started;
    await row.getByText('urgent').waitFor();
    await new Promise((resolve) => setTimeout(resolve, 4500)); // a load still owed has run by now
    // at most one load every 2 seconds while changes come, and one after them
    assert.ok(
      loads <= Math.ceil(burstMs / 2000) + 2,
      `${loads} loads of the list for 41 changes heard over ${burstMs} ms`,
    );
    assert.equal(await page.locator('#queue-stale').isVisible(), false);
  });

  it('says the list is not up to date while triage refuses to reload it, and brings it up to date by itself', async () => {
    const { id, page, row } = await dashboardWithNewRequest();
    // the member of staff's rate limit reached (or triage answering 503): every reload refused
    let refusing = true;
    await page.route('**/consultations?status=new', (route) =>
      refusing
        ? route.fulfill({
            status: 429,
            contentType: 'application/json',
            body: JSON.stringify({
              code: 'tooManyRequests',
              message: 'Too many requests: try again shortly',
            }),
          })
        : route.continue(),
    );
    const changed = await as(practice, 'admin').inject({
      method: 'PATCH',
      url: `/consultations/${id}`,
      payload: { priority: 'urgent' },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const notice = page.locator('#queue-stale');
    await notice.waitFor();
    const words = (await notice.textContent()) ?? '';
    assert.match(words, /This list is not up to date/);
    assert.match(words, /could not be refreshed \(Too many requests: try again shortly\)/);
    assert.match(words, /It shows the requests as they were at \d{2}:\d{2}:\d{2}\. Trying again by itself/);
    assert.equal(await row.getByText('urgent').count(), 0, 'the change is not shown yet');
    if (process.env.GPC_SCREENSHOT_DIR)
      await page.screenshot({ path: `${process.env.GPC_SCREENSHOT_DIR}/staff-queue-stale.png` });

    refusing = false;
    await row.getByText('urgent').waitFor({ timeout: 15_000 });
    await notice.waitFor({ state: 'hidden' });
  });
});
