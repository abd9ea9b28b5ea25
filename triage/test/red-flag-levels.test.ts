import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import {
  redFlagExtensions,
  redFlagExtensionUrl,
  redFlagOutcome,
  redFlagsRaised,
} from '@gpc/contracts/forms/red-flags';
import { medicalAnswers, startTriage } from '@gpc/test-support';

describe('two levels of red flag', () => {
  it('a red flag without a level (every form written before levels) is an emergency', () => {
    const form = {
      item: [
        {
          linkId: 'old',
          type: 'boolean',
          extension: [{ url: redFlagExtensionUrl, valueString: 'Call 999' }],
        },
        { linkId: 'new', type: 'boolean', extension: redFlagExtensions('Call 111 now', 'urgent') },
      ],
    };
    const old = redFlagsRaised(form, { item: [{ linkId: 'old', answer: [{ valueBoolean: true }] }] });
    assert.deepEqual(old, [{ linkId: 'old', advice: 'Call 999', level: 'emergency' }]);
    const both = redFlagsRaised(form, {
      item: [
        { linkId: 'new', answer: [{ valueBoolean: true }] },
        { linkId: 'old', answer: [{ valueBoolean: true }] },
      ],
    });
    assert.equal(redFlagOutcome(both).stop?.linkId, 'old', 'an emergency wins over an urgent flag');
    assert.equal(redFlagOutcome(both.slice(0, 1)).urgent?.linkId, 'new');
  });
});

describe('red flags on the public form, on the real PostgreSQL', async () => {
  const { app, db, practiceA, as, formId } = await startTriage(
    { after },
    { now: () => new Date('2026-07-13T09:00:00Z') },
  );
  const medical = await formId('medical');
  const body = (changes: Parameters<typeof medicalAnswers>[0], extra: Record<string, unknown> = {}) => ({
    idempotencyKey: randomUUID(),
    formId: medical,
    patient: { givenName: 'Pat', familyName: 'Example', birthDate: '1980-02-03', email: 'pat@example.org' },
    submittedBy: { type: 'patient' },
    preferredContact: 'email',
    answers: medicalAnswers(changes),
    ...extra,
  });
  const submit = (payload: Record<string, unknown>) =>
    app.inject({ method: 'POST', url: '/practices/A81001/submissions', payload });
  const worse = { 'getting-worse': { valueCoding: { code: 'yes' } } };

  it('the default medical form has an urgent-level question and keeps its emergency ones', async () => {
    const form = (await app.inject({ url: `/practices/A81001/forms/${medical}` })).json<{
      item: { linkId: string; type: string }[];
    }>();
    const raised = (linkId: string, answer: Record<string, unknown>) =>
      redFlagsRaised(form, { item: [{ linkId, answer: [answer] }] });
    assert.equal(raised('getting-worse', { valueCoding: { code: 'yes' } })[0]?.level, 'urgent');
    assert.equal(raised('chest-pain', { valueBoolean: true })[0]?.level, 'emergency');
  });

  it('an emergency red flag stops the request, even with "send anyway"', async () => {
    const stopped = await submit(body({ 'chest-pain': { valueBoolean: true } }, { urgentSendAnyway: true }));
    assert.equal(stopped.statusCode, 422);
    assert.equal(stopped.json<{ code: string }>().code, 'redFlag');
    assert.match(stopped.json<{ message: string }>().message, /999/);
    const event = await db.pool.query<{ level: string }>(
      "SELECT level FROM red_flag_event WHERE link_id = 'chest-pain'",
    );
    assert.deepEqual(event.rows, [{ level: 'emergency' }]);
    assert.equal((await db.pool.query('SELECT 1 FROM consultation')).rowCount, 0);
  });

  it('an urgent red flag without "send anyway" is refused with the advice, and nothing is stored', async () => {
    for (const extra of [{}, { urgentSendAnyway: false }]) {
      const refused = await submit(body(worse, extra));
      assert.equal(refused.statusCode, 422);
      assert.equal(refused.json<{ code: string }>().code, 'urgentRedFlag');
      assert.match(refused.json<{ message: string }>().message, /111 or your GP surgery now/);
    }
    assert.equal((await db.pool.query('SELECT 1 FROM consultation')).rowCount, 0);
    const events = await db.pool.query(
      "SELECT 1 FROM red_flag_event WHERE link_id = 'getting-worse' AND level = 'urgent' AND consultation_id IS NULL",
    );
    assert.equal(events.rowCount, 2);
  });

  it('with "send anyway" the request is urgent, flagged and at the top of the queue', async () => {
    const routine = await submit(body({}));
    assert.equal(routine.statusCode, 201);
    const sent = await submit(body(worse, { urgentSendAnyway: true }));
    assert.equal(sent.statusCode, 201, sent.body);
    const reference = sent.json<{ reference: string }>().reference;
    const { rows } = await db.pool.query<{ id: string; priority: string; red_flag: string }>(
      'SELECT id, priority, red_flag FROM consultation WHERE reference = $1',
      [reference],
    );
    assert.deepEqual(
      { priority: rows[0]?.priority, redFlag: rows[0]?.red_flag },
      { priority: 'urgent', redFlag: 'urgent' },
    );
    const event = await db.pool.query(
      "SELECT 1 FROM red_flag_event WHERE link_id = 'getting-worse' AND level = 'urgent' AND consultation_id = $1",
      [rows[0]?.id],
    );
    assert.equal(event.rowCount, 1, 'recorded that it arrived flagged');
    const queue = await as(practiceA, 'clinician').inject({ url: '/consultations' });
    const items = queue.json<{ reference: string; priority: string; redFlag: string | null }[]>();
    assert.equal(items[0]?.reference, reference, 'at the top of the queue');
    assert.equal(items[0]?.redFlag, 'urgent');
    assert.equal(items.find((item) => item.reference !== reference)?.redFlag, null);
  });
});
