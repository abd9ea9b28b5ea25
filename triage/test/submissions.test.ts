import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import fc from 'fast-check';
import pg from 'pg';
import { defaultTokenIssuer } from '@gpc/contracts';
import { buildTriageApp, generateSigningKey, TokenKeys } from '@gpc/triage';
import { capturedLogger, medicalAnswers, noWriteBacks, startTriage } from '@gpc/test-support';

// Monday 13 July 2026, 10:00 in London: the practice is open
const mondayMorning = new Date('2026-07-13T09:00:00Z');

let medicalFormId = '';
const validBody = () => ({
  idempotencyKey: randomUUID(),
  formId: medicalFormId,
  patient: {
    givenName: 'Zebedee',
    familyName: 'Quartermaine',
    birthDate: '1980-02-03',
    nhsNumber: '943 476 5919',
    phone: '07700 900123',
  },
  submittedBy: { type: 'patient' },
  preferredContact: 'sms',
  answers: medicalAnswers({}, 'persistent-cough-secret-detail'),
});

describe('public submissions on the real PostgreSQL', async () => {
  let now = mondayMorning;
  const { logger, lines: logLines } = capturedLogger('debug');
  const { app, db, formId } = await startTriage(
    { after },
    {
      logger,
      now: () => now,
    },
  );
  medicalFormId = await formId('medical');

  const submit = (body: unknown, ods = 'A81001') =>
    app.inject({
      method: 'POST',
      url: `/practices/${ods}/submissions`,
      payload: body as Record<string, unknown>,
      remoteAddress: `10.0.${Math.floor(Math.random() * 250)}.${Math.floor(Math.random() * 250)}`,
    });

  it('stores the request, its answers and the audit event together, and answers with a reference', async () => {
    const body = validBody();
    const response = await submit(body);
    assert.equal(response.statusCode, 201, response.body);
    const { reference, duplicate } = response.json<{ reference: string; duplicate: boolean }>();
    assert.match(reference, /^GPC-[A-Z2-9]{8}$/);
    assert.equal(duplicate, false);
    const { rows } = await db.pool.query<{
      id: string;
      patient_nhs_number: string;
      questionnaire_response: unknown;
    }>('SELECT id, patient_nhs_number, questionnaire_response FROM consultation WHERE reference = $1', [
      reference,
    ]);
    assert.equal(rows[0]?.patient_nhs_number, '9434765919');
    assert.deepEqual(rows[0]?.questionnaire_response, body.answers);
    const audit = await db.pool.query(
      "SELECT 1 FROM audit_event WHERE entity_id = $1 AND action = 'submit'",
      [rows[0]?.id],
    );
    assert.equal(audit.rowCount, 1);
  });

  it('never makes a second request from a retry or a double click', async () => {
    const body = validBody();
    const [first, second] = await Promise.all([submit(body), submit(body)]);
    const third = await submit(body);
    const references = [first, second, third].map((r) => r.json<{ reference: string }>().reference);
    assert.equal(new Set(references).size, 1, JSON.stringify(references));
    assert.deepEqual([first, second, third].map((r) => r.statusCode).sort(), [200, 200, 201]);
    const count = await db.pool.query('SELECT 1 FROM consultation WHERE idempotency_key = $1', [
      body.idempotencyKey,
    ]);
    assert.equal(count.rowCount, 1);
  });

  it('serves the practice, whether it is open, and its forms as FHIR Questionnaires', async () => {
    const practice = await app.inject({ method: 'GET', url: '/practices/A81001' });
    assert.equal(practice.statusCode, 200);
    const info = practice.json<{
      name: string;
      openNow: boolean;
      forms: { id: string; slug: string; kind: string }[];
    }>();
    assert.equal(info.openNow, true);
    assert.deepEqual(info.forms.map((form) => form.slug).sort(), [
      'fit-note',
      'letter',
      'medical',
      'referral',
      'repeat-prescription',
      'something-else',
      'test-results',
      'update-details',
    ]);
    const form = await app.inject({ method: 'GET', url: `/practices/A81001/forms/${medicalFormId}` });
    assert.equal(form.json<{ resourceType: string }>().resourceType, 'Questionnaire');
    assert.equal(
      (await app.inject({ method: 'GET', url: `/practices/A81001/forms/${randomUUID()}` })).statusCode,
      404,
    );
    assert.equal((await app.inject({ method: 'GET', url: '/practices/ZZZ999' })).statusCode, 404);
  });

  it('stops at a red-flag answer with urgent advice, records it, and stores nothing else', async () => {
    const body = validBody();
    body.answers = medicalAnswers({ 'chest-pain': { valueBoolean: true } });
    now = new Date('2026-07-11T10:00:00Z'); // even when the practice is closed
    const stopped = await submit(body);
    now = mondayMorning;
    assert.equal(stopped.statusCode, 422);
    assert.equal(stopped.json<{ code: string }>().code, 'redFlag');
    assert.match(stopped.json<{ message: string }>().message, /999/);
    const stored = await db.pool.query('SELECT 1 FROM consultation WHERE idempotency_key = $1', [
      body.idempotencyKey,
    ]);
    assert.equal(stored.rowCount, 0);
    const events = await db.pool.query("SELECT 1 FROM red_flag_event WHERE link_id = 'chest-pain'");
    assert.equal(events.rowCount, 1);

    const recorded = await app.inject({
      method: 'POST',
      url: '/practices/A81001/red-flag-events',
      payload: { formId: medicalFormId, linkId: 'stroke' },
    });
    assert.equal(recorded.statusCode, 204);
    const worse = validBody();
    worse.answers = medicalAnswers({ 'getting-worse': { valueCoding: { code: 'yes' } } });
    const getsWorse = await submit(worse);
    // "getting worse quickly" is an urgent-level flag (111 or the surgery now): refused with its advice
    // unless the patient chooses to send anyway (triage/test/red-flag-levels.test.ts)
    assert.equal(getsWorse.json<{ code: string }>().code, 'urgentRedFlag');
    assert.match(getsWorse.json<{ message: string }>().message, /111/);
  });

  it('explains what is wrong with bad details', async () => {
    const cases: [string, (body: ReturnType<typeof validBody>) => unknown, RegExp][] = [
      [
        'bad NHS number',
        (b) => ({ ...b, patient: { ...b.patient, nhsNumber: '9434765918' } }),
        /NHS number is not valid/,
      ],
      [
        'future birth date',
        (b) => ({ ...b, patient: { ...b.patient, birthDate: '2030-01-01' } }),
        /date of birth/,
      ],
      ['sms without phone', (b) => ({ ...b, patient: { ...b.patient, phone: undefined } }), /phone number/],
      ['unknown field', (b) => ({ ...b, admin: true }), /additional properties|must NOT have/],
      [
        'proxy without relationship',
        (b) => ({ ...b, submittedBy: { type: 'proxy', name: 'Jo' } }),
        /submittedBy|must/,
      ],
      ['no answers', (b) => ({ ...b, answers: { ...b.answers, item: [] } }), /item/],
      [
        'urgent question skipped',
        (b) => ({
          ...b,
          answers: { ...b.answers, item: b.answers.item.filter((item) => item.linkId !== 'suicidal') },
        }),
        /"suicidal" needs an answer/,
      ],
      [
        'answer not on the form',
        (b) => ({ ...b, answers: medicalAnswers({ duration: { valueCoding: { code: 'forever' } } }) }),
        /"duration" is not one this question takes/,
      ],
    ];
    for (const [label, change, message] of cases) {
      const response = await submit(change(validBody()));
      assert.equal(response.statusCode, 400, label);
      assert.equal(response.json<{ code: string }>().code, 'badRequest', label);
      assert.match(response.json<{ message: string }>().message, message, label);
    }
    assert.equal((await submit(validBody(), 'ZZZ999')).statusCode, 404);
  });

  it('refuses clearly outside opening hours, and (outside England) past the day’s capacity', async () => {
    now = new Date('2026-07-11T10:00:00Z'); // Saturday
    await db.pool.query("UPDATE practice SET out_of_hours = 'closed' WHERE ods_code = 'A81001'");
    const closed = await submit(validBody());
    assert.equal(closed.statusCode, 409);
    assert.equal(closed.json<{ code: string }>().code, 'practiceClosed');
    await db.pool.query("UPDATE practice SET out_of_hours = 'open' WHERE ods_code = 'A81001'");
    now = mondayMorning;

    // England's core hours never refuse for capacity (triage/test/core-hours.test.ts); a Welsh practice's limit does
    await db.pool.query(
      "UPDATE practice SET nation = 'wales', daily_capacity = (SELECT count(*) FROM consultation) WHERE ods_code = 'A81001'",
    );
    const full = await submit(validBody());
    assert.equal(full.statusCode, 409);
    assert.equal(full.json<{ code: string }>().code, 'capacityReached');
    await db.pool.query(
      "UPDATE practice SET nation = 'england', daily_capacity = 200 WHERE ods_code = 'A81001'",
    );
  });

  it('tells the patient to try again when the database is down, leaving nothing half-written', async () => {
    const deadPool = new pg.Pool({
      connectionString: 'postgres://postgres@127.0.0.1:1/none',
      connectionTimeoutMillis: 300,
    });
    const down = await buildTriageApp({
      pool: deadPool,
      tokenKeys: new TokenKeys([generateSigningKey()], defaultTokenIssuer),
      writeBack: noWriteBacks,
      now: () => mondayMorning,
    });
    const response = await down.inject({
      method: 'POST',
      url: '/practices/A81001/submissions',
      payload: validBody(),
    });
    assert.equal(response.statusCode, 503);
    assert.match(response.json<{ message: string }>().message, /try again/);
    await down.close();
    await deadPool.end();
  });

  it('never answers 5xx to arbitrary bodies (property-based)', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.anything(),
          fc.record({
            idempotencyKey: fc.oneof(fc.uuid(), fc.string()),
            formId: fc.oneof(fc.constant(medicalFormId), fc.uuid()),
            patient: fc.record({
              givenName: fc.string(),
              familyName: fc.string(),
              birthDate: fc.oneof(fc.constant('1990-01-01'), fc.string()),
              nhsNumber: fc.stringMatching(/^[0-9]{10}$/),
              phone: fc.string(),
            }),
            submittedBy: fc.constant({ type: 'patient' }),
            preferredContact: fc.constantFrom('phone', 'sms', 'email'),
            answers: fc.record({
              resourceType: fc.constant('QuestionnaireResponse'),
              status: fc.constant('completed'),
              item: fc.array(fc.record({ linkId: fc.string() })),
            }),
          }),
        ),
        async (body) => {
          const response = await submit(body);
          assert.ok(
            response.statusCode < 500,
            `${response.statusCode} for ${JSON.stringify(body)}: ${response.body}`,
          );
        },
      ),
      { numRuns: 150 },
    );
  });

  it('keeps names, NHS numbers and answers out of the logs', () => {
    const logged = logLines.join('');
    assert.ok(logged.includes('request received'), 'the submissions were logged, by id');
    for (const secret of [
      'Zebedee',
      'Quartermaine',
      '9434765919',
      '943 476 5919',
      'persistent-cough-secret-detail',
      '07700 900123',
    ]) {
      assert.ok(
        !logged.includes(secret),
        `"${secret}" appeared in the logs: ${logLines
          .filter((line) => line.includes(secret))
          .join('')
          .slice(0, 600)}`,
      );
    }
  });
});
