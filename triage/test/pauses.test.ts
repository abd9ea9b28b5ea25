import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { freeTextSubmission, startTriage } from '@gpc/test-support';

type PauseView = {
  id: string;
  status: string;
  until: string;
  endedEarly: { at: string; by: { name: string } } | null;
};

describe('an exceptional pause of the online form, on the real PostgreSQL', async () => {
  // Monday 13 July 2026, 10:00 in London: core hours
  let now = new Date('2026-07-13T09:00:00Z');
  const { app, db, practiceA, practiceB, as, formId } = await startTriage({ after }, { now: () => now });
  const fitNote = await formId('fit-note');
  const admin = as(practiceA, 'admin');
  const submit = () =>
    app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: freeTextSubmission(fitNote, 'A fit note from Monday'),
    });
  const availability = async () =>
    (await app.inject({ url: '/practices/A81001' })).json<{
      openNow: boolean;
      availability: { state: string; message: string; until?: string };
    }>();
  const pause = (payload: Record<string, unknown>, client = admin) =>
    client.inject({ method: 'POST', url: '/practice/pauses', payload });

  it('a non-admin cannot pause, and a pause must say why and must end within 24 hours', async () => {
    for (const role of ['clinician', 'reception'] as const) {
      const refused = await pause(
        { reason: 'Clinical system down', until: '2026-07-13T13:00:00Z' },
        as(practiceA, role),
      );
      assert.equal(refused.statusCode, 403, role);
    }
    assert.equal(
      (
        await app.inject({
          method: 'POST',
          url: '/practice/pauses',
          payload: { reason: 'Clinical system down', until: '2026-07-13T13:00:00Z' },
        })
      ).statusCode,
      401,
    );
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ until: '2026-07-13T13:00:00Z' }, /reason/],
      [{ reason: 'short', until: '2026-07-13T13:00:00Z' }, /reason/],
      [{ reason: 'Clinical system down' }, /until/],
      [{ reason: 'Clinical system down', until: '2026-07-13T08:00:00Z' }, /end after it starts/],
      [{ reason: 'Clinical system down', until: '2026-07-14T09:00:01Z' }, /at most 24 hours/],
      [
        { reason: 'Clinical system down', from: '2026-07-12T09:00:00Z', until: '2026-07-13T13:00:00Z' },
        /cannot start in the past/,
      ],
    ];
    for (const [payload, message] of cases) {
      const refused = await pause(payload);
      assert.equal(refused.statusCode, 400, JSON.stringify(payload));
      assert.match(refused.json<{ message: string }>().message, message);
    }
    assert.equal((await db.pool.query('SELECT 1 FROM practice_pause')).rowCount, 0);
  });

  it('a pause refuses submissions with 111 advice, is audited, and ends by itself at its until', async () => {
    const paused = await pause({
      reason: 'Clinical system down: agreed with the ICB by phone',
      until: '2026-07-13T13:00:00Z',
    });
    assert.equal(paused.statusCode, 201, paused.body);
    const view = paused.json<PauseView>();
    assert.equal(view.status, 'in-force');

    const shown = await availability();
    assert.equal(shown.openNow, false);
    assert.equal(shown.availability.state, 'paused');
    assert.equal(shown.availability.until, '2026-07-13T13:00:00.000Z');
    assert.match(shown.availability.message, /paused online requests until 2pm today.*111/);
    const refused = await submit();
    assert.equal(refused.statusCode, 409);
    assert.equal(refused.json<{ code: string }>().code, 'practicePaused');
    assert.match(refused.json<{ message: string }>().message, /111/);
    assert.equal(
      (await pause({ reason: 'Another pause at once', until: '2026-07-13T12:00:00Z' })).statusCode,
      409,
    );

    const audit = await db.pool.query<{ actor: string }>(
      "SELECT actor FROM audit_event WHERE entity = 'practice_pause' AND entity_id = $1 AND action = 'pause online requests'",
      [view.id],
    );
    assert.deepEqual(
      audit.rows.map((row) => row.actor),
      [practiceA.staff.admin.id],
    );
    // the other practice is not paused
    assert.equal((await app.inject({ url: '/practices/B82002' })).json<{ openNow: boolean }>().openNow, true);

    now = new Date('2026-07-13T12:59:59Z');
    assert.equal((await availability()).availability.state, 'paused');
    now = new Date('2026-07-13T13:00:00Z');
    assert.equal((await availability()).availability.state, 'open', 'over at its until, with nothing run');
    assert.equal((await submit()).statusCode, 201);
    const listed = await admin.inject({ url: '/practice/pauses' });
    assert.equal(listed.json<PauseView[]>()[0]?.status, 'ended');
  });

  it('can be ended early by an admin, audited', async () => {
    now = new Date('2026-07-14T09:00:00Z');
    const paused = await pause({ reason: 'Fire alarm: building evacuated', until: '2026-07-14T15:00:00Z' });
    const id = paused.json<PauseView>().id;
    assert.equal((await availability()).availability.state, 'paused');
    now = new Date('2026-07-14T10:15:00Z');
    const ended = await admin.inject({ method: 'POST', url: `/practice/pauses/${id}/end` });
    assert.equal(ended.statusCode, 200, ended.body);
    const view = ended.json<PauseView>();
    assert.equal(view.status, 'ended');
    assert.equal(view.endedEarly?.at, '2026-07-14T10:15:00.000Z');
    assert.equal(view.endedEarly?.by.name, practiceA.staff.admin.name);
    assert.equal((await availability()).availability.state, 'open');
    assert.equal((await submit()).statusCode, 201);
    const again = await admin.inject({ method: 'POST', url: `/practice/pauses/${id}/end` });
    assert.equal(again.statusCode, 409);
    const audit = await db.pool.query(
      "SELECT 1 FROM audit_event WHERE entity = 'practice_pause' AND entity_id = $1 AND action = 'end pause early'",
      [id],
    );
    assert.equal(audit.rowCount, 1);
    // another practice's admin can neither see nor end it
    const otherAdmin = as(practiceB, 'admin');
    assert.equal(
      (await otherAdmin.inject({ method: 'POST', url: `/practice/pauses/${id}/end` })).statusCode,
      404,
    );
    assert.deepEqual((await otherAdmin.inject({ url: '/practice/pauses' })).json(), []);
    assert.equal(
      (await as(practiceA, 'clinician').inject({ method: 'POST', url: `/practice/pauses/${id}/end` }))
        .statusCode,
      403,
    );
  });

  it('appears in the CSV report for the ICB, every pause with who, why, from, until and any early end', async () => {
    // a reason a spreadsheet would take for a formula, with a comma and a quote in it
    now = new Date('2026-07-15T09:00:00Z');
    await pause({ reason: '=HYPERLINK("x"), flood in the "waiting room"', until: '2026-07-15T11:00:00Z' });
    const csv = await admin.inject({ url: '/practice/pauses.csv' });
    assert.equal(csv.statusCode, 200, csv.body);
    assert.match(csv.headers['content-type'] ?? '', /^text\/csv/);
    const lines = csv.body.trimEnd().split('\r\n');
    assert.equal(
      lines[0],
      'practice_ods_code,practice_name,paused_by,reason,from,until,ended_early_by,ended_early_at,recorded_at',
    );
    assert.equal(lines.length, 4, csv.body);
    const admin_ = `${practiceA.staff.admin.name} <${practiceA.staff.admin.email}>`;
    assert.ok(
      lines[1]?.startsWith(
        `A81001,Practice A81001,${admin_},Clinical system down: agreed with the ICB by phone,2026-07-13T09:00:00.000Z,2026-07-13T13:00:00.000Z,,,`,
      ),
      lines[1],
    );
    assert.ok(
      lines[2]?.startsWith(
        `A81001,Practice A81001,${admin_},Fire alarm: building evacuated,2026-07-14T09:00:00.000Z,2026-07-14T15:00:00.000Z,${admin_},2026-07-14T10:15:00.000Z,`,
      ),
      lines[2],
    );
    assert.ok(lines[3]?.includes(`,"'=HYPERLINK(""x""), flood in the ""waiting room""",`), lines[3]);
    assert.equal((await as(practiceA, 'reception').inject({ url: '/practice/pauses.csv' })).statusCode, 403);
  });
});
