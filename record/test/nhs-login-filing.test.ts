import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import { nhsLoginTestUsers } from '@gpc/local-oidc-provider';
import {
  compositionsFor,
  localOutbound,
  medicalAnswers,
  signInWithNhsLogin,
  startLocalFhir,
  startTriage,
  testRedisUrl as redisUrl,
  waitFor,
} from '@gpc/test-support';
import { FhirClient } from '../src/fhir/client';
import { createWriteBackQueue } from '../src/queue';
import { startWriteBackWorker } from '../src/worker';

// Monday 13 July 2026, 10:00 in London: the practice is open
const mondayMorning = new Date('2026-07-13T09:00:00Z');
const janeP9 = nhsLoginTestUsers.find((user) => user.proofingLevel === 'P9')!;
const samP5 = nhsLoginTestUsers.find((user) => user.proofingLevel === 'P5')!;

describe('a request sent with NHS login, closed and filed into the GP record (local NHS login, PostgreSQL, Redis, FHIR server)', async () => {
  const prefix = `gpc-test-${randomUUID()}`;
  const triage = await startTriage(
    { after },
    { writeBackQueue: { prefix }, nhsLogin: true, now: () => mondayMorning },
  );
  const { app, db, practiceA, as } = triage;
  const fhir = await startLocalFhir();
  triage.after(() => fhir.server.close());
  await db.pool.query('UPDATE practice SET fhir_base_url = $1', [fhir.base]);
  const offered = await as(practiceA, 'admin').inject({
    method: 'PATCH',
    url: '/practice',
    payload: { nhsLoginOffered: true },
  });
  assert.equal(offered.statusCode, 200, offered.body);
  const worker = startWriteBackWorker({
    queue: createWriteBackQueue(redisUrl, { prefix, retry: { baseDelayMs: 100, maxDelayMs: 1000 } }),
    pool: db.pool,
    fhir: new FhirClient({ timeoutMs: 2000, outbound: localOutbound }),
    // these requests carry no files
    readDocument: (key) => Promise.reject(new Error(`no document ${key} in this test`)),
    logger: pino({ level: 'silent' }),
    concurrency: 2,
    practiceConcurrency: 2,
    maxAttempts: 3,
    sweepIntervalMs: 0,
    sweepAfterMs: 1000,
  });
  triage.after(() => worker.close());
  const formId = await triage.formId('medical');

  /** Signs in as `user`, sends a request with the session, and a clinician closes it: its id. */
  async function sendAndClose(user: { email: string; password: string }): Promise<string> {
    const { token } = await signInWithNhsLogin(triage, user);
    assert.ok(token);
    const sent = await app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: {
        idempotencyKey: randomUUID(),
        formId,
        patient: { givenName: 'Typed', familyName: 'Typed', birthDate: '1970-01-01', phone: '07700 900123' },
        submittedBy: { type: 'patient' },
        preferredContact: 'sms',
        answers: medicalAnswers({}, 'a cough for three weeks'),
        nhsLoginSession: token,
      },
    });
    assert.equal(sent.statusCode, 201, sent.body);
    const { rows } = await db.pool.query<{ id: string }>('SELECT id FROM consultation WHERE reference = $1', [
      sent.json<{ reference: string }>().reference,
    ]);
    const id = rows[0]!.id;
    const closed = await as(practiceA, 'clinician').inject({
      method: 'POST',
      url: `/consultations/${id}/close`,
      payload: { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'Reviewed.' },
    });
    assert.equal(closed.statusCode, 200, closed.body);
    return id;
  }

  const writeBackStatus = async (id: string) =>
    (
      await db.pool.query<{ status: string }>('SELECT status FROM write_back WHERE consultation_id = $1', [
        id,
      ])
    ).rows[0]?.status;

  it('files a P9 request closed by a clinician without a match step, under the NHS number NHS login gave', async () => {
    const id = await sendAndClose(janeP9);
    await waitFor('the summary filed', async () => (await writeBackStatus(id)) === 'filed', {
      timeoutMs: 15_000,
    });
    const [composition, ...more] = await compositionsFor(fhir.base, id);
    assert.equal(more.length, 0);
    assert.equal(composition?.subject?.identifier?.value, '9000000009');
    const confirmations = await db.pool.query(
      "SELECT 1 FROM audit_event WHERE entity_id = $1 AND action ILIKE '%confirm%'",
      [id],
    );
    assert.equal(confirmations.rowCount, 0, 'no member of staff had to confirm the patient');
  });

  it('holds a P5 request for the patient match like a typed one: nothing filed', async () => {
    const id = await sendAndClose(samP5);
    await waitFor('the write-back held', async () => (await writeBackStatus(id)) === 'needs_patient_match', {
      timeoutMs: 5000,
    });
    assert.equal((await compositionsFor(fhir.base, id)).length, 0);
  });
});
