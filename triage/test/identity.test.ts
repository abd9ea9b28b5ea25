import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { pino } from 'pino';
import type { ConsultationDetail, IdentityView } from '@gpc/contracts';
import { seedPatients, startLocalPds, unknownNhsNumber } from '@gpc/local-pds-server';
import { createWriteBackQueue, FhirClient, startWriteBackWorker } from '@gpc/record';
import {
  closeWithPendingWriteBack,
  compositionsFor,
  freeTextSubmission,
  seedConsultation,
  startFaultProxy,
  startLocalFhir,
  startTriage,
  testRedisUrl,
  waitFor,
  type TestTriage,
  localOutbound,
} from '@gpc/test-support';

type Patient = { nhsNumber: string; given: string; family: string; birthDate: string };

/**
 * Triage tracing against a real local PDS stand-in, closing into a real record worker and FHIR
 * server: what staff see of a patient's identity, and the filing gate.
 */
describe('patient identity: PDS tracing, "Confirm patient" and the filing gate', async () => {
  const writeBackPrefix = `gpc-test-${randomUUID()}`;
  const world = await startTriage({ after }, { pds: true, writeBackQueue: { prefix: writeBackPrefix } });
  const { app, db, practiceA, as } = world;
  const fhir = await startLocalFhir();
  world.after(() => fhir.server.close());
  await db.pool.query('UPDATE practice SET fhir_base_url = $1', [fhir.base]);
  const recordQueue = createWriteBackQueue(testRedisUrl, {
    prefix: writeBackPrefix,
    retry: { baseDelayMs: 100, maxDelayMs: 1000 },
  });
  const recordWorker = startWriteBackWorker({
    queue: recordQueue,
    pool: db.pool,
    fhir: new FhirClient({ timeoutMs: 2000, outbound: localOutbound }),
    readDocument: () => Promise.reject(new Error('no files in these tests')),
    logger: pino({ level: 'silent' }),
    concurrency: 2,
    practiceConcurrency: 2,
    maxAttempts: 3,
    sweepIntervalMs: 0,
    sweepAfterMs: 1000,
  });
  world.after(() => recordWorker.close());
  const fitNote = await world.formId('fit-note');
  const clinician = as(practiceA, 'clinician');

  async function submit(triage: TestTriage, patient: Patient): Promise<string> {
    const response = await triage.app.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: freeTextSubmission(await triage.formId('fit-note'), 'A fit note please', {
        patient: {
          givenName: patient.given,
          familyName: patient.family,
          birthDate: patient.birthDate,
          nhsNumber: patient.nhsNumber,
        },
      }),
    });
    assert.equal(response.statusCode, 201, response.body);
    const { rows } = await triage.db.pool.query<{ id: string }>(
      'SELECT id FROM consultation WHERE reference = $1',
      [response.json<{ reference: string }>().reference],
    );
    return rows[0]!.id;
  }

  const detail = async (consultationId: string, triage: TestTriage = world) =>
    (
      await triage
        .as(triage.practiceA, 'clinician')
        .inject({ method: 'GET', url: `/consultations/${consultationId}` })
    ).json<ConsultationDetail>();

  const settled = (consultationId: string, status: IdentityView['status'], triage: TestTriage = world) =>
    waitFor(
      `identity ${status}`,
      async () => {
        const { identity } = await detail(consultationId, triage);
        return identity.status === status ? identity : undefined;
      },
      { timeoutMs: 15_000 },
    );

  async function close(consultationId: string) {
    const response = await clinician.inject({
      method: 'POST',
      url: `/consultations/${consultationId}/close`,
      payload: {
        outcomeCode: '182836005',
        outcomeDisplay: 'Review of medication',
        summary: 'Fit note issued.',
      },
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ writeBackStatus: string }>();
  }

  const confirm = (consultationId: string, role: 'clinician' | 'admin' | 'reception' = 'clinician') =>
    as(practiceA, role).inject({ method: 'POST', url: `/consultations/${consultationId}/confirm-patient` });

  it('a patient whose number, date of birth and surname PDS agrees with, registered here, is verified', async () => {
    const id = await submit(world, seedPatients.patExample);
    const identity = await settled(id, 'verified');
    assert.equal(identity.source, 'form');
    assert.match(identity.reason, /match, and the patient is registered at this practice/);
    assert.ok(identity.tracedAt);
    assert.equal(identity.canConfirm, true);
    assert.equal(identity.confirmed, false);
  });

  it('surnames are compared without case or accents', async () => {
    const zoe = seedPatients.zoeBronte;
    const id = await submit(world, { ...zoe, given: 'ZOE', family: 'BRONTE' });
    await settled(id, 'verified');
  });

  it("the same name and date of birth under another patient's number is registered elsewhere, with the practice in words", async () => {
    // Jane Smith of A81001 types the number of the other Jane Smith, born the same day, registered at B82002
    const id = await submit(world, {
      ...seedPatients.janeSmith,
      nhsNumber: seedPatients.janeSmithOther.nhsNumber,
    });
    const identity = await settled(id, 'registered_elsewhere');
    assert.match(identity.reason, /registered at another practice \(B82002\)/);
    // two patients share these details: PDS (application-restricted) gives no single match
    assert.match(identity.reason, /no single patient with these details/);
    assert.equal(identity.canConfirm, false);
  });

  it('a number registered at another practice says which', async () => {
    const id = await submit(world, seedPatients.chrisWalker);
    const identity = await settled(id, 'registered_elsewhere');
    assert.equal(
      identity.reason,
      'PDS says this NHS number belongs to a patient registered at another practice (Y12345).',
    );
  });

  it("details that disagree say which, and that these details are a patient's here under another number, without showing it", async () => {
    // Alex Morgan types Robin Hughes' number: two digit pairs swapped, and the checksum still passes
    const id = await submit(world, {
      ...seedPatients.alexMorgan,
      nhsNumber: seedPatients.robinHughes.nhsNumber,
    });
    const identity = await settled(id, 'details_disagree');
    assert.match(identity.reason, /The date of birth does not match PDS\./);
    assert.match(identity.reason, /The surname does not match PDS\./);
    assert.match(identity.reason, /registered at this practice under a different NHS number/);
    assert.doesNotMatch(JSON.stringify(await detail(id)), new RegExp(seedPatients.alexMorgan.nhsNumber));
    const { rows } = await db.pool.query<{ result: unknown }>(
      'SELECT result FROM patient_trace WHERE consultation_id = $1',
      [id],
    );
    assert.doesNotMatch(JSON.stringify(rows[0]!.result), new RegExp(seedPatients.alexMorgan.nhsNumber));
  });

  it('a superseded number is treated as details that disagree, and says so', async () => {
    const id = await submit(world, seedPatients.superseded);
    const identity = await settled(id, 'details_disagree');
    assert.match(identity.reason, /superseded/);
  });

  it('a number PDS has no record of is not found', async () => {
    const id = await submit(world, { ...seedPatients.samTaylor, nhsNumber: unknownNhsNumber });
    const identity = await settled(id, 'not_found');
    assert.match(identity.reason, /PDS has no patient with this NHS number\./);
  });

  it('a restricted record is restricted, to be checked by another route', async () => {
    const id = await submit(world, seedPatients.restricted);
    const identity = await settled(id, 'restricted');
    assert.match(identity.reason, /Restricted record: .*Check identity by another route/);
    assert.equal(identity.canConfirm, false);
  });

  it("a near miss patient's request is closed and is not filed", async () => {
    const id = await submit(world, {
      ...seedPatients.janeSmith,
      nhsNumber: seedPatients.janeSmithOther.nhsNumber,
    });
    await settled(id, 'registered_elsewhere');
    assert.equal((await close(id)).writeBackStatus, 'needs_patient_match');
    const refused = await confirm(id);
    assert.equal(refused.statusCode, 409);
    assert.match(refused.json<{ message: string }>().message, /another practice \(B82002\)/);
    const { writeBack, identity } = await detail(id);
    assert.equal(writeBack?.status, 'needs_patient_match');
    assert.equal(identity.confirmed, false);
    assert.deepEqual(await compositionsFor(fhir.base, id), []);
    // the dashboard's list of held summaries says it waits on the patient's identity, not a number
    const held = await world.as(practiceA, 'clinician').inject({
      method: 'GET',
      url: '/write-backs?status=needs_patient_match',
    });
    assert.deepEqual(
      held
        .json<{ consultationId: string; identityStatus: string }[]>()
        .map((item) => [item.consultationId, item.identityStatus])
        .filter(([listed]) => listed === id),
      [[id, 'registered_elsewhere']],
    );
  });

  it('a verified patient is not filed until staff confirm them, then is filed', async () => {
    const id = await submit(world, seedPatients.patExample);
    await settled(id, 'verified');
    assert.equal((await close(id)).writeBackStatus, 'needs_patient_match');
    await new Promise((resolve) => setTimeout(resolve, 500));
    assert.deepEqual(await compositionsFor(fhir.base, id), []);

    assert.equal((await confirm(id, 'reception')).statusCode, 403);
    const confirmed = await confirm(id);
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const identity = confirmed.json<IdentityView>();
    assert.equal(identity.confirmed, true);
    assert.equal(identity.confirmedBy?.name, practiceA.staff.clinician.name);
    assert.ok(identity.confirmedAt);
    assert.equal(identity.canConfirm, false);
    await waitFor('filed', async () => (await detail(id)).writeBack?.status === 'filed', {
      timeoutMs: 15_000,
    });
    assert.equal((await compositionsFor(fhir.base, id)).length, 1);
    const audit = await db.pool.query(
      `SELECT 1 FROM audit_event WHERE entity_id = $1 AND action = 'confirm patient' AND actor = $2`,
      [id, practiceA.staff.clinician.id],
    );
    assert.equal(audit.rowCount, 1);
    assert.equal((await confirm(id)).statusCode, 409);
  });

  it('confirming anything but a verified trace is refused, with the reason in words', async () => {
    const untraced = await seedConsultation(db.pool, practiceA.id, { identity: 'unconfirmed' });
    const owed = await confirm(untraced);
    assert.equal(owed.statusCode, 409);
    assert.match(owed.json<{ message: string }>().message, /Only a patient PDS verified can be confirmed/);
    const restricted = await submit(world, seedPatients.restricted);
    await settled(restricted, 'restricted');
    const refused = await confirm(restricted);
    assert.equal(refused.statusCode, 409);
    assert.match(refused.json<{ message: string }>().message, /Restricted record/);
    const noNumber = await seedConsultation(db.pool, practiceA.id, { nhsNumber: null });
    assert.equal((await confirm(noNumber)).statusCode, 409);
  });

  it('changing the NHS number after confirmation undoes it, and the new number is traced afresh', async () => {
    const id = await submit(world, seedPatients.patExample);
    await settled(id, 'verified');
    assert.equal((await confirm(id)).statusCode, 200);
    const changed = await clinician.inject({
      method: 'PUT',
      url: `/consultations/${id}/nhs-number`,
      payload: { nhsNumber: seedPatients.samTaylor.nhsNumber },
    });
    assert.equal(changed.statusCode, 200, changed.body);
    const now = (await detail(id)).identity;
    assert.equal(now.confirmed, false);
    assert.equal(now.confirmedBy, null);
    // Pat Example is not Sam Taylor: PDS disagrees with the new number
    await settled(id, 'details_disagree');
    assert.equal((await close(id)).writeBackStatus, 'needs_patient_match');
    assert.deepEqual(await compositionsFor(fhir.base, id), []);
  });

  it('a staff-recorded number for a closed request waits for a trace and a confirmation before it is filed', async () => {
    const id = await seedConsultation(db.pool, practiceA.id, { nhsNumber: null });
    assert.equal((await close(id)).writeBackStatus, 'needs_patient_match');
    const recorded = await clinician.inject({
      method: 'PUT',
      url: `/consultations/${id}/nhs-number`,
      payload: { nhsNumber: seedPatients.patExample.nhsNumber },
    });
    assert.equal(recorded.statusCode, 200, recorded.body);
    assert.equal(recorded.json<{ writeBack: { status: string } }>().writeBack.status, 'needs_patient_match');
    await settled(id, 'verified');
    assert.equal((await detail(id)).writeBack?.status, 'needs_patient_match');
    assert.equal((await confirm(id)).statusCode, 200);
    await waitFor('filed', async () => (await detail(id)).writeBack?.status === 'filed', {
      timeoutMs: 15_000,
    });
  });

  it('a sentinel NHS number is refused at submission and when staff record it', async () => {
    for (const sentinel of ['0000000000', '2222222222']) {
      const response = await app.inject({
        method: 'POST',
        url: '/practices/A81001/submissions',
        payload: freeTextSubmission(fitNote, 'x', { patient: { nhsNumber: sentinel } }),
      });
      assert.equal(response.statusCode, 400, sentinel);
    }
    const id = await seedConsultation(db.pool, practiceA.id, { nhsNumber: null });
    const refused = await clinician.inject({
      method: 'PUT',
      url: `/consultations/${id}/nhs-number`,
      payload: { nhsNumber: '0000000000' },
    });
    assert.equal(refused.statusCode, 400);
    assert.match(refused.json<{ message: string }>().message, /placeholder/);
  });

  it('the record worker refuses to send a pending write-back whose identity is not confirmed', async () => {
    const id = await seedConsultation(db.pool, practiceA.id, { identity: 'unconfirmed' });
    // as if the gate at close had been bypassed: pending, queued, patient never confirmed
    await closeWithPendingWriteBack(db.pool, id, practiceA, 0, { confirmIdentity: false });
    await recordQueue.add({ consultationId: id, practiceId: practiceA.id }, { jobId: `write-back-${id}` });
    await waitFor(
      'needs patient match',
      async () => (await detail(id)).writeBack?.status === 'needs_patient_match',
      {
        timeoutMs: 15_000,
      },
    );
    assert.deepEqual(await compositionsFor(fhir.base, id), []);
  });

  it('a request confirmed for one number and then given another is refused by the record worker too', async () => {
    const id = await seedConsultation(db.pool, practiceA.id);
    await closeWithPendingWriteBack(db.pool, id, practiceA);
    // the number changed under the confirmation (straight in the database, past the route)
    await db.pool.query('UPDATE consultation SET patient_nhs_number = $2 WHERE id = $1', [
      id,
      seedPatients.samTaylor.nhsNumber,
    ]);
    await recordQueue.add({ consultationId: id, practiceId: practiceA.id }, { jobId: `write-back-${id}` });
    await waitFor(
      'needs patient match',
      async () => (await detail(id)).writeBack?.status === 'needs_patient_match',
      {
        timeoutMs: 15_000,
      },
    );
    assert.deepEqual(await compositionsFor(fhir.base, id), []);
  });
});

describe('patient tracing when PDS or the queue fails', () => {
  it('a trace PDS cannot answer is trace unavailable, retried, and verified when PDS comes back', async (t) => {
    const pds = await startLocalPds();
    t.after(() => pds.close());
    const proxy = await startFaultProxy(pds.baseUrl);
    t.after(() => proxy.close());
    let down = true;
    proxy.setRule(() => (down ? { kind: 'status', status: 503 } : { kind: 'pass' }));
    const triage = await startTriage(t, { pds: { server: pds, baseUrl: proxy.url, retryBaseDelayMs: 300 } });
    const id = await submitTo(triage, seedPatients.patExample);
    const unavailable = await waitForIdentity(triage, id, 'trace_unavailable');
    assert.match(
      unavailable.reason,
      /PDS could not be reached \(\d+ attempts? so far\); the trace will be tried again\./,
    );
    const { rows } = await triage.db.pool.query<{ last_error: string }>(
      'SELECT last_error FROM patient_trace WHERE consultation_id = $1',
      [id],
    );
    assert.match(rows[0]!.last_error, /503/);
    down = false;
    await waitForIdentity(triage, id, 'verified');
    assert.ok(proxy.requests.length >= 2);
  });

  it('a trace owed while the queue lost its job is swept and done', async (t) => {
    const triage = await startTriage(t, { pds: { sweepIntervalMs: 200, sweepAfterMs: 0 } });
    // owed straight in the database, as intake leaves it, with no job ever queued (Redis lost it)
    const id = await seedConsultation(triage.db.pool, triage.practiceA.id, { identity: 'unconfirmed' });
    assert.equal(await triage.traceQueue!.getJob(`trace-${id}`), null);
    await waitForIdentity(triage, id, 'verified');
    const { rows } = await triage.db.pool.query<{ status: string }>(
      'SELECT status FROM patient_trace WHERE consultation_id = $1',
      [id],
    );
    assert.equal(rows[0]!.status, 'done');
  });

  it('without PDS set up, requests stay owed a trace and are never verified', async (t) => {
    const triage = await startTriage(t);
    const id = await submitTo(triage, seedPatients.patExample);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const response = await triage
      .as(triage.practiceA, 'clinician')
      .inject({ method: 'GET', url: `/consultations/${id}` });
    assert.equal(response.json<ConsultationDetail>().identity.status, 'tracing');
  });
});

async function submitTo(triage: TestTriage, patient: Patient): Promise<string> {
  const response = await triage.app.inject({
    method: 'POST',
    url: '/practices/A81001/submissions',
    payload: freeTextSubmission(await triage.formId('fit-note'), 'A fit note please', {
      patient: {
        givenName: patient.given,
        familyName: patient.family,
        birthDate: patient.birthDate,
        nhsNumber: patient.nhsNumber,
      },
    }),
  });
  assert.equal(response.statusCode, 201, response.body);
  const { rows } = await triage.db.pool.query<{ id: string }>(
    'SELECT id FROM consultation WHERE reference = $1',
    [response.json<{ reference: string }>().reference],
  );
  return rows[0]!.id;
}

function waitForIdentity(
  triage: TestTriage,
  id: string,
  status: IdentityView['status'],
): Promise<IdentityView> {
  return waitFor(
    `identity ${status}`,
    async () => {
      const response = await triage
        .as(triage.practiceA, 'clinician')
        .inject({ method: 'GET', url: `/consultations/${id}` });
      const { identity } = response.json<ConsultationDetail>();
      return identity.status === status ? identity : undefined;
    },
    { timeoutMs: 15_000 },
  );
}
