import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { CloseRefusal, ThreadMessage } from '@gpc/contracts';
import { seedConsultation, startTriage } from '@gpc/test-support';
import { lockConsultation } from '../src/db/consultations';
import { insertPatientMessage } from '../src/db/messages';

// Hazard: a request closed over a patient's reply nobody read ("it's got worse"). Closing is refused
// while a patient's message has not been shown to the member of staff closing it.
describe('nothing is closed over a reply the clinician has not seen', async () => {
  const { app, db, practiceA, as } = await startTriage(
    { after },
    { publicWebUrl: 'https://consult.example' },
  );
  const clinician = as(practiceA, 'clinician');
  const admin = as(practiceA, 'admin');
  const closure = { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'Reviewed.' };

  const close = (id: string, who = clinician) =>
    who.inject({ method: 'POST', url: `/consultations/${id}/close`, payload: closure });
  /** The messages shown to the member of staff, as the dashboard shows them when a request is opened. */
  async function showMessages(id: string, who = clinician): Promise<ThreadMessage[]> {
    const shown = await who.inject({ method: 'GET', url: `/consultations/${id}/messages?markSeen=true` });
    assert.equal(shown.statusCode, 200, shown.body);
    return shown.json<ThreadMessage[]>();
  }
  /** The request opened in the dashboard: its detail, then its messages shown to the member of staff. */
  async function open(id: string, who = clinician): Promise<ThreadMessage[]> {
    assert.equal((await who.inject({ method: 'GET', url: `/consultations/${id}` })).statusCode, 200);
    return showMessages(id, who);
  }

  /** A request the practice has messaged, and the patient's way into the thread. */
  async function messagedRequest(): Promise<{ id: string; reply: (body: string) => Promise<void> }> {
    const id = await seedConsultation(db.pool, practiceA.id);
    const sent = await clinician.inject({
      method: 'POST',
      url: `/consultations/${id}/messages`,
      payload: { body: 'How is the rash today?' },
    });
    const token = new URL(sent.json<{ threadLink: string }>().threadLink).hash.replace('#t=', '');
    const unlocked = await app.inject({
      method: 'POST',
      url: '/threads/unlock',
      payload: { token, birthDate: '1980-02-03' },
    });
    const session = { authorization: `Bearer ${unlocked.json<{ sessionToken: string }>().sessionToken}` };
    return {
      id,
      reply: async (body) => {
        const replied = await app.inject({
          method: 'POST',
          url: '/threads/messages',
          headers: session,
          payload: { body, urgent: false },
        });
        assert.equal(replied.statusCode, 201, replied.body);
      },
    };
  }

  it('refuses closing with the new message when the patient replied after the clinician opened the request', async () => {
    const { id, reply } = await messagedRequest();
    await open(id);
    await reply('It has spread to my arm');

    const refused = await close(id);
    assert.equal(refused.statusCode, 409, refused.body);
    const body = refused.json<CloseRefusal>();
    assert.equal(body.code, 'conflict');
    assert.match(body.message, /replied since you opened this request/);
    assert.deepEqual(
      body.unseenMessages?.map((message) => [message.author, message.body]),
      [['patient', 'It has spread to my arm']],
    );
    const status = await db.pool.query<{ status: string }>('SELECT status FROM consultation WHERE id = $1', [
      id,
    ]);
    assert.notEqual(status.rows[0]?.status, 'closed', 'still open');
    const writeBacks = await db.pool.query('SELECT 1 FROM write_back WHERE consultation_id = $1', [id]);
    assert.equal(writeBacks.rowCount, 0, 'nothing owed to the GP record');
  });

  it('allows closing once the clinician has opened the request again and been shown the reply', async () => {
    const { id, reply } = await messagedRequest();
    await open(id);
    await reply('Still itchy');
    assert.equal((await close(id)).statusCode, 409);

    // a background reload (a live update) and a colleague's reading do not count as the closer seeing it
    const reloaded = await clinician.inject({ method: 'GET', url: `/consultations/${id}/messages` });
    assert.equal(reloaded.statusCode, 200);
    await open(id, admin);
    assert.equal((await close(id)).statusCode, 409, 'not seen by the clinician closing it');

    const shown = await open(id);
    assert.ok(shown.some((message) => message.body === 'Still itchy'));
    const closed = await close(id);
    assert.equal(closed.statusCode, 200, closed.body);
    assert.equal(closed.json<{ status: string }>().status, 'closed');
  });

  it('blocks closing for a reply that arrives between reading and closing', async () => {
    const { id, reply } = await messagedRequest();
    await reply('First reply');
    const shown = await open(id);
    assert.deepEqual(
      shown.map((message) => message.body),
      ['How is the rash today?', 'First reply'],
    );
    await reply('Second reply, written while you were typing the summary');
    const refused = await close(id);
    assert.equal(refused.statusCode, 409);
    assert.deepEqual(
      refused.json<CloseRefusal>().unseenMessages?.map((message) => message.body),
      ['Second reply, written while you were typing the summary'],
      'only the reply not seen',
    );
  });

  it('does not count as seen a reply being written while the messages are read, whose transaction began first', async () => {
    const { id } = await messagedRequest();
    // a reply mid-write, as the thread route writes it: the request locked, the message inserted, not committed
    const writer = await db.pool.connect();
    try {
      await writer.query('BEGIN');
      await lockConsultation(writer, practiceA.id, id);
      await insertPatientMessage(writer, { practiceId: practiceA.id, consultationId: id, body: 'Mid-write' });
      // the clinician's page reads the thread meanwhile: the reply is not there yet, and is not marked seen
      // (the detail would wait for the reply's lock: opening a request claims it)
      const shown = await showMessages(id);
      assert.ok(!shown.some((message) => message.body === 'Mid-write'));
      await writer.query('COMMIT');
    } finally {
      writer.release();
    }
    const refused = await close(id);
    assert.equal(refused.statusCode, 409, 'its created_at is before the read, but it was never shown');
    assert.deepEqual(
      refused.json<CloseRefusal>().unseenMessages?.map((message) => message.body),
      ['Mid-write'],
    );
  });

  it('makes a close that races a reply being written wait for it, then refuses it', async () => {
    const { id } = await messagedRequest();
    await open(id);
    const writer = await db.pool.connect();
    let closing: ReturnType<typeof close> | undefined;
    try {
      await writer.query('BEGIN');
      await lockConsultation(writer, practiceA.id, id);
      await insertPatientMessage(writer, {
        practiceId: practiceA.id,
        consultationId: id,
        body: 'Racing reply',
      });
      closing = close(id);
      // the close is waiting on the reply's lock, not finished
      const early = await Promise.race([
        closing.then(() => 'finished'),
        new Promise((resolve) => setTimeout(() => resolve('waiting'), 300)),
      ]);
      assert.equal(early, 'waiting');
      await writer.query('COMMIT');
    } finally {
      writer.release();
    }
    const refused = await closing;
    assert.equal(refused.statusCode, 409, refused.body);
    assert.deepEqual(
      refused.json<CloseRefusal>().unseenMessages?.map((message) => message.body),
      ['Racing reply'],
    );
  });

  it('lets a request with no reply from the patient close, and staff messages never block', async () => {
    const { id } = await messagedRequest();
    assert.equal((await close(id)).statusCode, 200);
    const untouched = await seedConsultation(db.pool, practiceA.id);
    assert.equal((await close(untouched)).statusCode, 200);
  });

  it('still answers a closed or missing request as before', async () => {
    const { id, reply } = await messagedRequest();
    await reply('Thanks');
    await open(id);
    assert.equal((await close(id)).statusCode, 200);
    const again = await close(id);
    assert.equal(again.statusCode, 409);
    assert.equal(again.json<CloseRefusal>().unseenMessages, undefined);
    assert.match(again.json<CloseRefusal>().message, /already closed/);
    assert.equal((await close('00000000-0000-4000-8000-000000000000')).statusCode, 404);
  });
});
