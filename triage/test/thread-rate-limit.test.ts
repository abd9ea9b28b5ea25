import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { seedConsultation, startTriage } from '@gpc/test-support';

/**
 * A patient's thread requests carry a thread session, not a staff token: they are counted per
 * thread (from the verified token), so one patient, or someone forging tokens that name another's
 * thread, cannot use up another patient's limit, even from the same address.
 */
describe('rate limits on patients’ threads are kept per thread', async () => {
  const { app, db, practiceA, as } = await startTriage({ after });

  /** A request the practice has messaged, and the patient's unlocked thread session. */
  async function unlockedThread(): Promise<{ id: string; authorization: string }> {
    const id = await seedConsultation(db.pool, practiceA.id);
    const sent = await as(practiceA, 'clinician').inject({
      method: 'POST',
      url: `/consultations/${id}/messages`,
      payload: { body: 'How are you feeling?' },
    });
    assert.equal(sent.statusCode, 201, sent.body);
    const token = new URL(sent.json<{ threadLink: string }>().threadLink).hash.replace('#t=', '');
    const unlocked = await app.inject({
      method: 'POST',
      url: '/threads/unlock',
      payload: { token, birthDate: '1980-02-03' },
    });
    assert.equal(unlocked.statusCode, 200, unlocked.body);
    return { id, authorization: `Bearer ${unlocked.json<{ sessionToken: string }>().sessionToken}` };
  }
  const read = (authorization: string) =>
    app.inject({
      method: 'GET',
      url: '/threads/messages',
      headers: { authorization },
      remoteAddress: '203.0.113.7',
    });

  it('lets thread B read on after thread A, from the same address, has used up its limit', async () => {
    const [a, b] = [await unlockedThread(), await unlockedThread()];
    let refused = 0;
    for (let i = 0; i < 320; i += 1) if ((await read(a.authorization)).statusCode === 429) refused += 1;
    assert.ok(refused > 0, 'thread A reaches its limit');
    const other = await read(b.authorization);
    assert.equal(other.statusCode, 200, `thread B is still served: ${other.body}`);
  });

  it('does not count forged tokens naming thread C against thread C', async () => {
    const c = await unlockedThread();
    const forgedClaims = Buffer.from(
      JSON.stringify({ typ: 'thread-session', consultationId: c.id, practiceId: practiceA.id }),
    ).toString('base64url');
    const forged = `Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.${forgedClaims}.bm90LWEtc2lnbmF0dXJl`;
    for (let i = 0; i < 320; i += 1) await read(forged);
    const real = await read(c.authorization);
    assert.equal(real.statusCode, 200, `thread C is still served: ${real.body}`);
  });
});
