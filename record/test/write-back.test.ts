import assert from 'node:assert/strict';
import { createHash, randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { Bundle, DocumentReference, QuestionnaireResponse } from '@medplum/fhirtypes';
import { pino } from 'pino';
import { canonicalJson, writeBackJobId, type SummaryContent } from '@gpc/contracts';
import { startLocalS3 } from '@gpc/local-s3-server';
import {
  closeWithPendingWriteBack,
  compositionsFor,
  localOutbound,
  openDashboard,
  seedConsultation,
  startFaultProxy,
  startLocalFhir,
  startTriage,
  testRedisUrl as redisUrl,
  waitFor,
} from '@gpc/test-support';
import { FhirClient } from '../src/fhir/client';
import { ATTACHMENT_SYSTEM, CONSULTATION_SYSTEM } from '../src/fhir/identifiers';
import { createS3DocumentSource } from '../src/filing/s3-documents';
import { createWriteBackQueue } from '../src/queue';
import { createWriteBackAnnouncer } from '../src/staff-live';
import { startWriteBackWorker } from '../src/worker';

const maxAttempts = 4;
const bucket = 'record-test-attachments';
const s3Credentials = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

interface WriteBackView {
  status: string;
  attempts: number;
  lastError: string | null;
  serverLocations: string[];
}

describe('the record worker filing summaries into the GP record (real PostgreSQL, Redis, FHIR server)', async () => {
  const prefix = `gpc-test-${randomUUID()}`;
  // the producer side, as triage runs it: its own queue object on the same Redis keys as the worker's
  const {
    app: triage,
    db,
    practiceA: practice,
    practiceB: otherPractice,
    url,
    ...world
  } = await startTriage(
    { after },
    {
      writeBackQueue: { prefix },
      live: 'redis',
      // a number staff record is traced against PDS before the patient can be confirmed and filed
      pds: true,
    },
  );
  const fhir = await startLocalFhir();
  world.after(() => fhir.server.close());
  const proxy = await startFaultProxy(fhir.base);
  world.after(() => proxy.close());
  const s3 = await startLocalS3([bucket]);
  world.after(() => s3.close());
  const documents = createS3DocumentSource({
    bucket,
    region: 'eu-west-2',
    endpoint: s3.endpoint,
    forcePathStyle: true,
    ...s3Credentials,
  });
  world.after(() => documents.destroy());
  await db.pool.query('UPDATE practice SET fhir_base_url = $1', [proxy.url]);
  const queue = createWriteBackQueue(redisUrl, {
    prefix,
    retry: { baseDelayMs: 100, maxDelayMs: 3000 },
    perPracticeLimit: { max: 100, durationMs: 1000 },
  });
  const worker = startWriteBackWorker({
    queue,
    pool: db.pool,
    fhir: new FhirClient({ timeoutMs: 1000, outbound: localOutbound }),
    readDocument: documents.read,
    logger: pino({ level: 'silent' }),
    concurrency: 4,
    practiceConcurrency: 4,
    maxAttempts,
    sweepIntervalMs: 0,
    sweepAfterMs: 1000,
    announce: createWriteBackAnnouncer(queue.client, pino({ level: 'silent' })),
  });
  world.after(() => worker.close());

  const staffAt = (practiceCode: string, role: 'admin' | 'clinician' | 'reception') =>
    world.as(practiceCode === practice.odsCode ? practice : otherPractice, role);
  const as = (practiceCode: string, role: 'admin' | 'clinician' | 'reception') =>
    staffAt(practiceCode, role).headers;

  async function close(consultationId: string) {
    const response = await triage.inject({
      method: 'POST',
      url: `/consultations/${consultationId}/close`,
      headers: as('A81001', 'clinician'),
      payload: {
        outcomeCode: '182836005',
        outcomeDisplay: 'Review of medication',
        summary: 'Medication reviewed; no change.',
      },
    });
    assert.equal(response.statusCode, 200, response.body);
  }

  const writeBack = async (consultationId: string) => {
    const response = await triage.inject({
      url: `/consultations/${consultationId}`,
      headers: as('A81001', 'admin'),
    });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ writeBack: WriteBackView }>().writeBack;
  };

  const settled = (consultationId: string, status: string) =>
    waitFor(`write-back ${status}`, async () => {
      const view = await writeBack(consultationId);
      return view.status === status ? view : undefined;
    });

  it('files a closed request into the GP record once: Encounter and Composition, found by our identifier', async () => {
    const id = await seedConsultation(db.pool, practice.id);
    await close(id);
    const view = await settled(id, 'filed');
    assert.equal(view.attempts, 1);
    assert.deepEqual(
      view.serverLocations.map((location) => location.split('/')[0]),
      ['Encounter', 'Composition'],
    );
    const filed = await compositionsFor(fhir.base, id);
    assert.equal(filed.length, 1);
    assert.equal(filed[0]?.subject?.identifier?.value, '9434765919');
    assert.equal(filed[0]?.custodian?.identifier?.value, 'A81001');
    assert.equal(`Composition/${filed[0]?.id}`, view.serverLocations[1]?.split('/_history')[0]);
  });

  it("files the patient's photo from S3 as a DocumentReference beside the summary, byte for byte", async () => {
    const id = await seedConsultation(db.pool, practice.id);
    const photo = Buffer.from([
      0xff,
      0xd8,
      0xff,
      0xe0,
      ...Array.from({ length: 3000 }, (_, i) => i % 251),
      0xff,
      0xd9,
    ]);
    // the verified copy triage made of the upload: what the summary version names and filing reads
    const key = `verified/${practice.id}/${randomUUID()}`;
    const client = new S3Client({
      region: 'eu-west-2',
      endpoint: s3.endpoint,
      forcePathStyle: true,
      credentials: s3Credentials,
    });
    await client.send(
      new PutObjectCommand({ Bucket: bucket, Key: key, Body: photo, ContentType: 'image/jpeg' }),
    );
    client.destroy();
    const { rows } = await db.pool.query<{ id: string }>(
      `INSERT INTO attachment (practice_id, consultation_id, s3_key, content_type, size_bytes, verified_key, sha256)
       VALUES ($1, $2, $3, 'image/jpeg', $4, $5, $6) RETURNING id`,
      [
        practice.id,
        id,
        `uploads/${practice.id}/${randomUUID()}`,
        photo.length,
        key,
        createHash('sha256').update(photo).digest('hex'),
      ],
    );
    await close(id);
    const view = await settled(id, 'filed');
    assert.deepEqual(
      view.serverLocations.map((location) => location.split('/')[0]),
      ['Encounter', 'Composition', 'DocumentReference'],
    );
    const search = await fetch(
      `${fhir.base}/DocumentReference?identifier=${ATTACHMENT_SYSTEM}|${rows[0]!.id}`,
    );
    const found = ((await search.json()) as Bundle<DocumentReference>).entry ?? [];
    assert.equal(found.length, 1);
    const document = found[0]!.resource!;
    assert.equal(document.subject?.identifier?.value, '9434765919');
    const attachment = document.content[0]?.attachment;
    assert.equal(attachment?.contentType, 'image/jpeg');
    assert.ok(Buffer.from(attachment?.data ?? '', 'base64').equals(photo), 'the bytes the patient uploaded');
    const composition = (await compositionsFor(fhir.base, id))[0];
    assert.ok(
      JSON.stringify(composition).includes(`DocumentReference/${document.id}`),
      'the summary points at the document',
    );
  });

  it("tells the practice's open dashboards, and only them, as the write-back moves on", async () => {
    const dashboard = (practiceCode: string) =>
      openDashboard(
        world,
        url,
        staffAt(practiceCode, practiceCode === 'A81001' ? 'reception' : 'admin').token,
      );
    const ours = await dashboard('A81001');
    const theirs = await dashboard('B82002');
    const id = await seedConsultation(db.pool, practice.id);
    await close(id);
    await settled(id, 'filed');
    // the worker's announcement comes after its database update: wait for it, not for the status
    await waitFor(
      () => `the filing announced (heard so far: ${JSON.stringify(ours)})`,
      () => ours.some((change) => change.consultationId === id && change.change === 'updated'),
      { timeoutMs: 10_000 },
    );
    assert.deepEqual(
      ours.filter((change) => change.consultationId === id).map((change) => change.change),
      ['closed', 'updated'],
    );
    assert.deepEqual(theirs, [], 'another practice hears nothing');
  });

  it('holds a request without an NHS number until staff record it, PDS verifies it and staff confirm the patient, then files it', async () => {
    const id = await seedConsultation(db.pool, practice.id, { nhsNumber: null });
    await close(id);
    assert.equal((await writeBack(id)).status, 'needs_patient_match');
    assert.equal(await queue.getJob(writeBackJobId({ consultationId: id, practiceId: practice.id })), null);

    const setNumber = (nhsNumber: string, headers = as('A81001', 'reception')) =>
      triage.inject({
        method: 'PUT',
        url: `/consultations/${id}/nhs-number`,
        headers,
        payload: { nhsNumber },
      });
    const wrongDigit = await setNumber('943 476 5918');
    assert.equal(wrongDigit.statusCode, 400);
    assert.match(wrongDigit.json<{ message: string }>().message, /not a valid NHS number/);
    assert.equal((await setNumber('943 476 5919', as('B82002', 'admin'))).statusCode, 404);
    assert.equal((await compositionsFor(fhir.base, id)).length, 0, 'nothing is filed against a guess');

    const matched = await setNumber('943 476 5919');
    assert.equal(matched.statusCode, 200, matched.body);
    // the number alone releases nothing: it is traced, and a clinician confirms the patient PDS verified
    assert.equal(matched.json<{ writeBack: WriteBackView }>().writeBack.status, 'needs_patient_match');
    await waitFor('the number verified by PDS', async () => {
      const detail = await triage.inject({ url: `/consultations/${id}`, headers: as('A81001', 'reception') });
      return detail.json<{ identity: { status: string } }>().identity.status === 'verified';
    });
    assert.equal(
      (await compositionsFor(fhir.base, id)).length,
      0,
      'nothing is filed before the patient is confirmed',
    );
    const confirmed = await triage.inject({
      method: 'POST',
      url: `/consultations/${id}/confirm-patient`,
      headers: as('A81001', 'clinician'),
    });
    assert.equal(confirmed.statusCode, 200, confirmed.body);
    const view = await settled(id, 'filed');
    assert.equal(view.attempts, 1);
    assert.equal((await compositionsFor(fhir.base, id))[0]?.subject?.identifier?.value, '9434765919');
    assert.equal((await setNumber('943 476 5919')).statusCode, 409, 'a filed summary keeps its number');
  });

  it("fails on a 422 with the GP system's words, lists it, and files it when an admin replays after the fix", async () => {
    const id = await seedConsultation(db.pool, practice.id);
    proxy.setRule((body) =>
      body.includes(id)
        ? { kind: 'status', status: 422, text: 'Patient 9434765919 is not registered at this practice' }
        : { kind: 'pass' },
    );
    await close(id);
    const failed = await settled(id, 'failed');
    assert.equal(failed.attempts, 1, 'a 4xx is not retried');
    assert.equal(failed.lastError, '422: Patient 9434765919 is not registered at this practice');
    const listed = await triage.inject({
      url: '/write-backs?status=failed',
      headers: as('A81001', 'reception'),
    });
    assert.deepEqual(
      listed.json<{ consultationId: string }[]>().map((row) => row.consultationId),
      [id],
    );
    const otherList = await triage.inject({
      url: '/write-backs?status=failed',
      headers: as('B82002', 'admin'),
    });
    assert.deepEqual(otherList.json(), []);
    assert.equal(
      (await queue.getFailed()).filter((job) => job.data.consultationId === id).length,
      1,
      'dead letter kept',
    );

    const replay = (headers: Record<string, string>) =>
      triage.inject({ method: 'POST', url: `/consultations/${id}/write-back/replay`, headers });
    assert.equal((await replay(as('A81001', 'clinician'))).statusCode, 403, 'replay is for admins');
    assert.equal((await replay(as('B82002', 'admin'))).statusCode, 404);

    proxy.setRule(() => ({ kind: 'pass' })); // the practice fixed the registration
    const replayed = await replay(as('A81001', 'admin'));
    assert.equal(replayed.statusCode, 200, replayed.body);
    const view = await settled(id, 'filed');
    assert.equal(view.lastError, null);
    assert.equal((await compositionsFor(fhir.base, id)).length, 1);
    assert.equal((await replay(as('A81001', 'admin'))).statusCode, 409, 'only a failed one is replayed');
  });

  it('files exactly the frozen version (the form’s words, every answer, the thread both ways, its hash) even when the request and a message change after the close, and a replay after a refusal files the same version', async () => {
    const id = await seedConsultation(db.pool, practice.id);
    // a form version with a multi-answer question, and answers carrying text a client made up
    const form = await db.pool.query<{ id: string }>(
      `INSERT INTO questionnaire (practice_id, slug, kind, resource) VALUES ($1, $2, 'medical', $3) RETURNING id`,
      [
        practice.id,
        `symptoms-${id.slice(0, 8)}`,
        JSON.stringify({
          resourceType: 'Questionnaire',
          url: 'https://gp-consult.example/fhir/Questionnaire/symptoms',
          version: '2',
          title: 'Tell us your symptoms',
          status: 'active',
          item: [
            {
              linkId: 'symptoms',
              text: 'Which of these do you have?',
              type: 'choice',
              repeats: true,
              answerOption: [
                { valueCoding: { code: 'fever', display: 'A high temperature' } },
                { valueCoding: { code: 'rash', display: 'A rash' } },
              ],
            },
          ],
        }),
      ],
    );
    await db.pool.query(
      `UPDATE consultation SET questionnaire_id = $2, questionnaire_response = $3,
         identity_confirmed_at = now(), identity_confirmed_nhs_number = patient_nhs_number WHERE id = $1`,
      [
        id,
        form.rows[0]!.id,
        JSON.stringify({
          resourceType: 'QuestionnaireResponse',
          status: 'completed',
          item: [
            {
              linkId: 'symptoms',
              text: 'CLIENT-TEXT: Are you well?',
              answer: [
                { valueCoding: { code: 'fever', display: 'CLIENT-TEXT: yes' } },
                { valueCoding: { code: 'rash' } },
              ],
            },
          ],
        }),
      ],
    );
    const clinician = staffAt('A81001', 'clinician');
    await db.pool.query(
      `INSERT INTO message (practice_id, consultation_id, author, staff_id, body, created_at)
       VALUES ($1, $2, 'staff', $3, 'Is the rash spreading?', '2026-11-20T10:00:00Z'),
              ($1, $2, 'patient', NULL, 'No, it is only on my arm.', '2026-11-20T10:30:00Z')`,
      [practice.id, id, clinician.staff.id],
    );
    // the closer is shown the thread (a reply they had not seen would block the close)
    await clinician.inject({ url: `/consultations/${id}/messages?markSeen=true` });

    proxy.setRule((body) =>
      body.includes(id) ? { kind: 'status', status: 422, text: 'Not today' } : { kind: 'pass' },
    );
    try {
      await close(id);
      await settled(id, 'failed');
    } finally {
      proxy.setRule(() => ({ kind: 'pass' }));
    }
    const { rows: versions } = await db.pool.query<{
      id: string;
      content: SummaryContent;
      content_hash: string;
    }>('SELECT id, content, content_hash FROM summary_version WHERE consultation_id = $1', [id]);
    assert.equal(versions.length, 1);
    const version = versions[0]!;

    // after the close, the request and its thread change (as a bug or a hand in the database might)
    await db.pool.query(
      `UPDATE consultation SET summary = 'CHANGED-AFTER-CLOSE', outcome_display = 'CHANGED-AFTER-CLOSE',
         questionnaire_response = '{"resourceType":"QuestionnaireResponse","item":[]}' WHERE id = $1`,
      [id],
    );
    await db.pool.query(`UPDATE message SET body = 'CHANGED-AFTER-CLOSE' WHERE consultation_id = $1`, [id]);
    await db.pool.query(
      `INSERT INTO message (practice_id, consultation_id, author, body) VALUES ($1, $2, 'patient', 'CHANGED-AFTER-CLOSE')`,
      [practice.id, id],
    );

    const replayed = await triage.inject({
      method: 'POST',
      url: `/consultations/${id}/write-back/replay`,
      headers: as('A81001', 'admin'),
    });
    assert.equal(replayed.statusCode, 200, replayed.body);
    await settled(id, 'filed');

    const [composition, ...more] = await compositionsFor(fhir.base, id);
    assert.equal(more.length, 0);
    assert.deepEqual(composition?.extension, [
      {
        url: 'https://gp-consult.example/fhir/StructureDefinition/summary-version',
        extension: [
          { url: 'id', valueString: version.id },
          { url: 'sha256', valueString: version.content_hash },
        ],
      },
    ]);
    assert.equal(
      version.content_hash,
      createHash('sha256').update(canonicalJson(version.content)).digest('hex'),
    );
    const filedText = JSON.stringify(composition);
    assert.doesNotMatch(filedText, /CHANGED-AFTER-CLOSE/);
    const section = (title: string) => composition?.section?.find((s) => s.title === title)?.text?.div ?? '';
    assert.match(section('Summary'), new RegExp(version.content.summary));
    assert.match(section('Outcome'), /Review of medication/);
    const thread = section('Messages with the patient');
    assert.match(
      thread,
      new RegExp(`${clinician.staff.name} \\(practice\\), 20 Nov 2026, 10:00.*Is the rash spreading\\?`),
    );
    assert.match(thread, /Patient, 20 Nov 2026, 10:30.*No, it is only on my arm\./);
    assert.deepEqual(
      version.content.messages.map((message) => [message.author, message.body]),
      [
        ['staff', 'Is the rash spreading?'],
        ['patient', 'No, it is only on my arm.'],
      ],
    );

    const answers = (
      (await (
        await fetch(`${fhir.base}/QuestionnaireResponse?identifier=${CONSULTATION_SYSTEM}|${id}`)
      ).json()) as Bundle<QuestionnaireResponse>
    ).entry?.map((entry) => entry.resource);
    assert.equal(answers?.length, 1);
    assert.equal(answers?.[0]?.questionnaire, 'https://gp-consult.example/fhir/Questionnaire/symptoms|2');
    assert.deepEqual(answers?.[0]?.item, [
      {
        linkId: 'symptoms',
        text: 'Which of these do you have?',
        answer: [{ valueString: 'A high temperature' }, { valueString: 'A rash' }],
      },
    ]);
    assert.deepEqual(
      answers?.[0]?.item?.map((item) => ({
        linkId: item.linkId,
        question: item.text,
        answers: item.answer?.map((answer) => answer.valueString),
      })),
      version.content.answers,
      'what is filed is what the version froze',
    );
    assert.doesNotMatch(JSON.stringify(answers), /CLIENT-TEXT|CHANGED-AFTER-CLOSE/);
  });

  it('refuses to file a summary version whose content no longer matches its hash', async () => {
    const id = await seedConsultation(db.pool, practice.id);
    await closeWithPendingWriteBack(db.pool, id, practice, 5);
    // the trigger keeps a version as frozen; only by switching it off could anyone change one
    await db.pool.query('ALTER TABLE summary_version DISABLE TRIGGER summary_version_frozen');
    try {
      await db.pool.query(
        `UPDATE summary_version SET content = jsonb_set(content, '{summary}', '"Tampered"') WHERE consultation_id = $1`,
        [id],
      );
    } finally {
      await db.pool.query('ALTER TABLE summary_version ENABLE TRIGGER summary_version_frozen');
    }
    await worker.sweep();
    const view = await settled(id, 'failed');
    assert.match(view.lastError ?? '', /does not match its content hash/);
    assert.equal((await compositionsFor(fhir.base, id)).length, 0);
  });

  it('retries 503s, waiting as long as Retry-After says, and files once the GP system is back', async () => {
    const id = await seedConsultation(db.pool, practice.id);
    let refusals = 0;
    proxy.setRule((body) =>
      body.includes(id) && refusals++ < 2
        ? { kind: 'status', status: 503, retryAfter: '1', text: 'down for maintenance' }
        : { kind: 'pass' },
    );
    await close(id);
    const view = await settled(id, 'filed');
    assert.equal(view.attempts, 3);
    const times = proxy.requests.filter((request) => request.body.includes(id)).map((request) => request.at);
    assert.equal(times.length, 3);
    assert.ok(times[1]! - times[0]! >= 1000 && times[2]! - times[1]! >= 1000, 'Retry-After: 1 was honoured');
  });

  it('times out a GP system that does not answer, and the retry finds what the lost answer had filed', async () => {
    const id = await seedConsultation(db.pool, practice.id);
    const actions = ['hang', 'lose-answer'] as const;
    let next = 0;
    proxy.setRule((body) =>
      body.includes(id) && next < actions.length ? { kind: actions[next++]! } : { kind: 'pass' },
    );
    await close(id);
    const view = await settled(id, 'filed');
    assert.equal(view.attempts, 3);
    assert.equal(
      (await compositionsFor(fhir.base, id)).length,
      1,
      'filed once, although sent after it was filed',
    );
  });

  it('gives up after the last attempt, keeps the job as a dead letter and says why', async () => {
    const id = await seedConsultation(db.pool, practice.id);
    proxy.setRule((body) =>
      body.includes(id) ? { kind: 'status', status: 500, text: 'internal error' } : { kind: 'pass' },
    );
    await close(id);
    const view = await settled(id, 'failed');
    assert.equal(view.attempts, maxAttempts);
    // the GP system's own words on a 5xx are not shown: only that it failed, and how
    assert.equal(view.lastError, 'the GP system answered 500');
    const job = await queue.getJob(writeBackJobId({ consultationId: id, practiceId: practice.id }));
    assert.equal(await job?.getState(), 'failed');
    proxy.setRule(() => ({ kind: 'pass' }));
  });

  it('fails with a clear reason when the practice has no FHIR endpoint', async () => {
    await db.pool.query('UPDATE practice SET fhir_base_url = NULL WHERE id = $1', [practice.id]);
    try {
      const id = await seedConsultation(db.pool, practice.id);
      await close(id);
      const view = await settled(id, 'failed');
      assert.equal(view.lastError, 'the practice has no FHIR endpoint set up');
    } finally {
      await db.pool.query('UPDATE practice SET fhir_base_url = $2 WHERE id = $1', [practice.id, proxy.url]);
    }
  });

  it('queues again a pending write-back whose job the queue lost', async () => {
    const id = await seedConsultation(db.pool, practice.id);
    // closed while Redis was unreachable: the outbox row committed, the job never did
    await closeWithPendingWriteBack(db.pool, id, practice, 5);
    assert.equal(await worker.sweep(), 1);
    await settled(id, 'filed');
    assert.equal(await worker.sweep(), 0, 'nothing left to sweep');
  });
});
