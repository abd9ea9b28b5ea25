import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import { buildTriageApp } from '../src/app';
import { noWriteBacks } from './support/write-back';
import { migrateDatabase } from '../src/db/migrate';
import { createTestDatabase, type TestDatabase } from './support/database';
import { seedConsultation, seedPractice, type SeededPractice } from './support/practices';

describe('messages between staff and patient, with the date-of-birth check', () => {
  let db: TestDatabase;
  let app: FastifyInstance;
  let practiceA: SeededPractice;
  let practiceB: SeededPractice;

  before(async () => {
    db = await createTestDatabase();
    await migrateDatabase(db.url);
    practiceA = await seedPractice(db.pool, 'A81001');
    practiceB = await seedPractice(db.pool, 'B82002');
    app = await buildTriageApp({
      pool: db.pool,
      jwtSecret: 'messages-test-secret-long-enough-0123456789',
      writeBack: noWriteBacks,
      publicWebUrl: 'https://consult.example',
    });
  });
  after(async () => {
    await app.close();
    await db.drop();
  });

  const staffToken = (practice: SeededPractice) =>
    app.jwt.sign({
      typ: 'staff',
      sub: practice.staff.clinician.id,
      practiceId: practice.id,
      role: 'clinician',
      name: 'Dr C',
    });
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  async function message(consultationId: string, practice = practiceA) {
    return app.inject({
      method: 'POST',
      url: `/consultations/${consultationId}/messages`,
      headers: bearer(staffToken(practice)),
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
      payload: { body: 'Sent, thank you' },
    });
    assert.equal(reply.statusCode, 201);
    const after = await db.pool.query<{ status: string }>('SELECT status FROM consultation WHERE id = $1', [
      id,
    ]);
    assert.equal(after.rows[0]?.status, 'in_progress', 'the reply puts the request back in front of staff');
    const staffView = await app.inject({
      method: 'GET',
      url: `/consultations/${id}/messages`,
      headers: bearer(staffToken(practiceA)),
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
      (await app.inject({ method: 'GET', url: '/threads/messages', headers: bearer(staffToken(practiceA)) }))
        .statusCode,
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
      headers: bearer(staffToken(practiceB)),
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
      headers: bearer(staffToken(practiceA)),
      payload: { body: '   ' },
    });
    assert.equal(empty.statusCode, 400);
  });
});
