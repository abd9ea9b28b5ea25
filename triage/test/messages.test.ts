import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { seedConsultation, startTriage, type SeededPractice } from '@gpc/test-support';

describe('messages between staff and patient, with the date-of-birth check', async () => {
  const { app, db, practiceA, practiceB, as } = await startTriage(
    { after },
    { publicWebUrl: 'https://consult.example' },
  );
  const staff = (practice: SeededPractice) => as(practice, 'clinician').headers;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  async function message(consultationId: string, practice = practiceA) {
    return app.inject({
      method: 'POST',
      url: `/consultations/${consultationId}/messages`,
      headers: staff(practice),
      payload: { body: 'Please send a photo of the rash.' },
    });
  }
  const linkToken = (threadLink: string) => new URL(threadLink).hash.replace('#t=', '');

  it('sends a message with a link, lets the patient in with the right date of birth, and brings the reply back to the queue', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    const sent = await message(id);
    assert.equal(sent.statusCode, 201, sent.body);
    const { threadLink } = sent.json<{ threadLink: string }>();
    assert.match(threadLink, /^https:\/\/consult\.example\/thread\.html#t=/);
    const status = await db.pool.query<{ status: string }>('SELECT status FROM consultation WHERE id = $1', [
      id,
    ]);
    assert.equal(status.rows[0]?.status, 'awaiting_patient');

    const unlocked = await app.inject({
      method: 'POST',
      url: '/threads/unlock',
      payload: { token: linkToken(threadLink), birthDate: '1980-02-03' },
    });
    assert.equal(unlocked.statusCode, 200, unlocked.body);
    const { sessionToken } = unlocked.json<{ sessionToken: string }>();
    const thread = await app.inject({
      method: 'GET',
      url: '/threads/messages',
      headers: bearer(sessionToken),
    });
    assert.deepEqual(
      thread.json<{ body: string }[]>().map((m) => m.body),
      ['Please send a photo of the rash.'],
    );

    const reply = await app.inject({
      method: 'POST',
      url: '/threads/messages',
      headers: bearer(sessionToken),
      payload: { body: 'Sent, thank you', urgent: false },
    });
    assert.equal(reply.statusCode, 201);
    const after = await db.pool.query<{ status: string }>('SELECT status FROM consultation WHERE id = $1', [
      id,
    ]);
    assert.equal(after.rows[0]?.status, 'in_progress', 'the reply puts the request back in front of staff');
    const staffView = await app.inject({
      method: 'GET',
      url: `/consultations/${id}/messages`,
      headers: staff(practiceA),
    });
    assert.deepEqual(
      staffView.json<{ author: string }[]>().map((m) => m.author),
      ['staff', 'patient'],
    );

    // the link alone, or the link as a session, opens nothing
    assert.equal(
      (await app.inject({ method: 'GET', url: '/threads/messages', headers: bearer(linkToken(threadLink)) }))
        .statusCode,
      401,
    );
    assert.equal(
      (await app.inject({ method: 'GET', url: '/threads/messages', headers: staff(practiceA) })).statusCode,
      401,
    );
  });

  it('locks the thread after five wrong dates of birth, even against the right one', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    const token = linkToken((await message(id)).json<{ threadLink: string }>().threadLink);
    for (let attempt = 0; attempt < 5; attempt++) {
      const wrong = await app.inject({
        method: 'POST',
        url: '/threads/unlock',
        payload: { token, birthDate: '1999-01-01' },
      });
      assert.equal(wrong.statusCode, 401);
    }
    const locked = await app.inject({
      method: 'POST',
      url: '/threads/unlock',
      payload: { token, birthDate: '1980-02-03' },
    });
    assert.equal(locked.statusCode, 429);
    assert.match(locked.json<{ message: string }>().message, /Too many wrong tries/);
  });

  it('keeps practices apart and refuses a forged or foreign link', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    assert.equal((await message(id, practiceB)).statusCode, 404);
    const list = await app.inject({
      method: 'GET',
      url: `/consultations/${id}/messages`,
      headers: staff(practiceB),
    });
    assert.equal(list.statusCode, 404);
    const forged = await app.inject({
      method: 'POST',
      url: '/threads/unlock',
      payload: { token: 'a.b.c-not-a-token', birthDate: '1980-02-03' },
    });
    assert.equal(forged.statusCode, 401);
    const empty = await app.inject({
      method: 'POST',
      url: `/consultations/${id}/messages`,
      headers: staff(practiceA),
      payload: { body: '   ' },
    });
    assert.equal(empty.statusCode, 400);
  });
});
