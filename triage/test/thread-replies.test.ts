import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { LightMyRequestResponse } from 'fastify';
import type { PatientReplySent } from '@gpc/contracts';
import { replyUrgentAdvice } from '@gpc/contracts/forms/reply-urgency';
import { seedConsultation, startTriage } from '@gpc/test-support';

// Saturday 28 November 2026, 10:00 in London (GMT): the practice's weekday hours are over until Monday
const saturdayMorning = new Date('2026-11-28T10:00:00Z');

describe('a patient’s reply goes through the urgent screen and is told when it will be read', async () => {
  let clock = saturdayMorning;
  const { app, db, practiceA, as } = await startTriage(
    { after },
    { publicWebUrl: 'https://consult.example', now: () => clock },
  );
  await db.pool.query('UPDATE practice SET opening_hours = $1 WHERE id = $2', [
    JSON.stringify({
      mon: [['08:00', '18:30']],
      tue: [['08:00', '18:30']],
      wed: [['08:00', '18:30']],
      thu: [['08:00', '18:30']],
      fri: [['08:00', '18:30']],
    }),
    practiceA.id,
  ]);

  /** A request the practice has messaged, and the patient's unlocked thread. */
  async function thread(): Promise<{
    id: string;
    reply: (payload: object) => Promise<LightMyRequestResponse>;
  }> {
    const id = await seedConsultation(db.pool, practiceA.id);
    const sent = await as(practiceA, 'clinician').inject({
      method: 'POST',
      url: `/consultations/${id}/messages`,
      payload: { body: 'Can you send a photo?' },
    });
    const token = new URL(sent.json<{ threadLink: string }>().threadLink).hash.replace('#t=', '');
    const unlocked = await app.inject({
      method: 'POST',
      url: '/threads/unlock',
      payload: { token, birthDate: '1980-02-03' },
    });
    const authorization = `Bearer ${unlocked.json<{ sessionToken: string }>().sessionToken}`;
    return {
      id,
      reply: (payload) =>
        app.inject({ method: 'POST', url: '/threads/messages', headers: { authorization }, payload }),
    };
  }
  const patientMessages = async (id: string) =>
    (
      await db.pool.query<{ body: string }>(
        "SELECT body FROM message WHERE consultation_id = $1 AND author = 'patient'",
        [id],
      )
    ).rows.map((row) => row.body);

  it('refuses a reply without the urgent answer with a 400 that names it, and keeps nothing', async () => {
    const { id, reply } = await thread();
    const refused = await reply({ body: 'Here it is' });
    assert.equal(refused.statusCode, 400, refused.body);
    assert.equal(refused.json<{ code: string }>().code, 'badRequest');
    assert.match(refused.json<{ message: string }>().message, /urgent/);
    const notABoolean = await reply({ body: 'Here it is', urgent: 'no' });
    assert.equal(notABoolean.statusCode, 400);
    assert.deepEqual(await patientMessages(id), []);
  });

  it('refuses a reply marked urgent with the 999 and NHS 111 advice, and sends nothing to the practice', async () => {
    const { id, reply } = await thread();
    const refused = await reply({ body: 'My chest hurts', urgent: true });
    assert.equal(refused.statusCode, 422, refused.body);
    const { code, message } = refused.json<{ code: string; message: string }>();
    assert.equal(code, 'redFlag');
    assert.equal(message, replyUrgentAdvice);
    assert.match(message, /999/);
    assert.match(message, /NHS 111/);
    assert.deepEqual(await patientMessages(id), [], 'not sent');
  });

  it('tells an out-of-hours reply when the practice will read it', async () => {
    clock = saturdayMorning;
    const { id, reply } = await thread();
    const sent = await reply({ body: 'Photo attached', urgent: false });
    assert.equal(sent.statusCode, 201, sent.body);
    const body = sent.json<PatientReplySent>();
    assert.equal(body.body, 'Photo attached');
    assert.equal(body.practiceClosed?.opensAt, '2026-11-30T08:00:00.000Z');
    assert.equal(
      body.practiceClosed?.message,
      'Your surgery is closed now. They will read your message from 8:00am on Monday 30 November. If you need help before then, call NHS 111. In an emergency, call 999.',
    );
    assert.deepEqual(await patientMessages(id), ['Photo attached'], 'sent all the same');
  });

  it('tells an evening reply the next morning, in the practice’s summer time', async () => {
    // Tuesday 14 July 2026, 19:00 BST: the practice opens again at 08:00 BST on Wednesday
    clock = new Date('2026-07-14T18:00:00Z');
    const { reply } = await thread();
    const body = (await reply({ body: 'Evening', urgent: false })).json<PatientReplySent>();
    assert.equal(body.practiceClosed?.opensAt, '2026-07-15T07:00:00.000Z');
    assert.match(body.practiceClosed?.message ?? '', /from 8:00am on Wednesday 15 July\./);
  });

  it('says nothing about hours to a reply sent while the practice is open', async () => {
    clock = new Date('2026-11-30T10:00:00Z'); // Monday 10:00
    const { reply } = await thread();
    const sent = await reply({ body: 'In hours', urgent: false });
    assert.equal(sent.statusCode, 201);
    assert.equal(sent.json<PatientReplySent>().practiceClosed, null);
  });
});
