import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { capturedLogger, freeTextSubmission, startTriage } from '@gpc/test-support';

type Info = {
  openNow: boolean;
  availability: { state: string; message: string; replyBy?: string; opensAt?: string | null; busy?: boolean };
};

describe('open through core hours (England’s GP contract 2025/26), on the real PostgreSQL', async () => {
  // Monday 13 July 2026, 10:00 in London
  let now = new Date('2026-07-13T09:00:00Z');
  const { app, db, practiceA, as, formId } = await startTriage({ after }, { now: () => now });
  const fitNote = await formId('fit-note');
  const info = async () => (await app.inject({ url: '/practices/A81001' })).json<Info>();
  const submit = () =>
    app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: freeTextSubmission(fitNote, 'A fit note from Monday'),
    });
  const setPractice = (sql: string, ...values: unknown[]) =>
    db.pool.query(`UPDATE practice SET ${sql} WHERE id = $1`, [practiceA.id, ...values]);
  // a new practice's choice (test-support's practices are open out of hours, to run at any hour)
  await setPractice("out_of_hours = 'closed'");

  it('the form stays open in core hours past the daily capacity and tells the patient when to expect a reply', async () => {
    await setPractice('daily_capacity = 2');
    for (let sent = 0; sent < 2; sent++) assert.equal((await submit()).statusCode, 201);
    const busy = await info();
    assert.equal(busy.availability.state, 'open');
    assert.equal(busy.availability.busy, true);
    assert.match(busy.availability.message, /a lot of requests today.*next working day, tomorrow/);
    const third = await submit();
    assert.equal(third.statusCode, 201, 'capacity never refuses in core hours');
    const { rows } = await db.pool.query<{ reply_by: string }>(
      'SELECT reply_by::text FROM consultation WHERE reference = $1',
      [third.json<{ reference: string }>().reference],
    );
    assert.equal(rows[0]?.reply_by, '2026-07-14', 'routed to the next working day');
    const queue = await as(practiceA, 'reception').inject({ url: '/consultations' });
    const item = queue
      .json<{ reference: string; replyBy: string | null }[]>()
      .find((candidate) => candidate.reference === third.json<{ reference: string }>().reference);
    assert.equal(item?.replyBy, '2026-07-14');
    // 18:29 is still core hours; 18:30 is not
    now = new Date('2026-07-13T17:29:00Z');
    assert.equal((await submit()).statusCode, 201);
    now = new Date('2026-07-13T17:30:00Z');
    assert.equal((await submit()).json<{ code: string }>().code, 'practiceClosed');
    await setPractice('daily_capacity = 200');
  });

  it('outside core hours follows the practice’s choice: closed with 111 advice and when it opens, or open with the response time', async () => {
    now = new Date('2026-07-11T10:00:00Z'); // Saturday
    const closed = await info();
    assert.equal(closed.openNow, false);
    assert.equal(closed.availability.state, 'closed');
    assert.match(closed.availability.message, /111/);
    assert.equal(closed.availability.opensAt, '2026-07-13T07:00:00.000Z');
    assert.equal((await submit()).json<{ code: string }>().code, 'practiceClosed');

    await setPractice("out_of_hours = 'open'");
    const open = await info();
    assert.equal(open.openNow, true);
    assert.equal(open.availability.state, 'open-out-of-hours');
    assert.match(open.availability.message, /when it opens, 8am on Monday 13 July/);
    assert.equal((await submit()).statusCode, 201);
    await setPractice("out_of_hours = 'closed'");
  });

  it('on a bank holiday (England) at 10:00 it follows the out-of-hours choice', async () => {
    now = new Date('2026-08-31T09:00:00Z'); // Summer bank holiday, Monday 31 August 2026, 10:00 BST
    const holiday = await info();
    assert.equal(holiday.availability.state, 'closed');
    assert.equal(holiday.availability.opensAt, '2026-09-01T07:00:00.000Z');
    assert.equal((await submit()).json<{ code: string }>().code, 'practiceClosed');
    await setPractice("out_of_hours = 'open'");
    const open = await info();
    assert.equal(open.availability.state, 'open-out-of-hours');
    assert.equal(open.availability.replyBy, '2026-09-01');
    assert.equal((await submit()).statusCode, 201);
    await setPractice("out_of_hours = 'closed'");
  });

  it('Scotland’s 2 January differs from England’s', async () => {
    now = new Date('2026-01-02T10:00:00Z'); // Friday 2 January 2026
    assert.equal((await info()).availability.state, 'open', 'a working day in England: core hours');
    await setPractice(`nation = 'scotland', opening_hours = '{"fri": [["08:00", "18:00"]]}'`);
    const scotland = await info();
    assert.equal(scotland.availability.state, 'closed', 'a bank holiday in Scotland');
    assert.equal((await submit()).json<{ code: string }>().code, 'practiceClosed');
    now = new Date('2026-01-09T10:00:00Z'); // the next Friday
    assert.equal((await info()).availability.state, 'open');
    await setPractice(
      `nation = 'england', opening_hours = '{"mon":[["08:00","18:30"]],"tue":[["08:00","18:30"]],"wed":[["08:00","18:30"]],"thu":[["08:00","18:30"]],"fri":[["08:00","18:30"]]}'`,
    );
  });

  it('lets an admin set the nation, the out-of-hours choice and the response-time message, and shows the bank-holiday data’s end', async () => {
    now = new Date('2026-07-13T09:00:00Z');
    const admin = as(practiceA, 'admin');
    const changed = await admin.inject({
      method: 'PATCH',
      url: '/practice',
      payload: {
        nation: 'wales',
        outOfHours: 'open',
        responseTimeMessage: 'We reply within 2 working hours.',
      },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const view = changed.json<{
      nation: string;
      outOfHours: string;
      responseTimeMessage: string | null;
      bankHolidays: { coversUntil: string; warning: string | null };
    }>();
    assert.equal(view.nation, 'wales');
    assert.equal(view.outOfHours, 'open');
    assert.equal(view.responseTimeMessage, 'We reply within 2 working hours.');
    assert.deepEqual(view.bankHolidays, { coversUntil: '2028-12-31', warning: null });
    assert.equal((await info()).availability.message, 'We reply within 2 working hours.');
    const audit = await db.pool.query(
      "SELECT action FROM audit_event WHERE entity = 'practice' AND action LIKE 'change settings:%nation%'",
    );
    assert.equal(audit.rowCount, 1);
    const refused = await admin.inject({ method: 'PATCH', url: '/practice', payload: { nation: 'france' } });
    assert.equal(refused.statusCode, 400);
    const back = await admin.inject({
      method: 'PATCH',
      url: '/practice',
      payload: { nation: 'england', outOfHours: 'closed', responseTimeMessage: null },
    });
    assert.equal(back.json<{ responseTimeMessage: string | null }>().responseTimeMessage, null);
    const reception = await as(practiceA, 'reception').inject({ url: '/practice' });
    assert.equal(reception.statusCode, 403);
  });
});

describe('the bank-holiday data running out', async () => {
  const { logger, lines } = capturedLogger('info');
  const { practiceA, as } = await startTriage(
    { after },
    { now: () => new Date('2028-07-02T09:00:00Z'), logger },
  );

  it('warns admins in the practice settings and in the log at start, within 6 months of its end', async () => {
    const settings = await as(practiceA, 'admin').inject({ url: '/practice' });
    const warning = settings.json<{ bankHolidays: { warning: string | null } }>().bankHolidays.warning;
    assert.match(warning ?? '', /end on 31 December 2028/);
    const logged = lines.filter((line) => line.includes('bank holiday dates'));
    assert.equal(logged.length, 1, 'logged once at start');
    assert.match(logged[0] ?? '', /"level":40/);
  });
});
