import assert from 'node:assert/strict';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import type {
  Bundle,
  Composition,
  DocumentReference,
  Encounter,
  QuestionnaireResponse,
} from '@medplum/fhirtypes';
import fc from 'fast-check';
import { pino } from 'pino';
import { summaryFormat, type SummaryContent } from '@gpc/contracts';
import { createFhirServer, FHIR_BASE_PATH, type FhirServer } from '@gpc/local-fhir-server';
import { localOutbound } from '@gpc/test-support';
import { buildWriteBackBundle, type FilingData } from '../src/fhir/bundle';
import { FhirClient } from '../src/fhir/client';
import { findBundleProblems } from '../src/fhir/validate';

const consultationId = '0b6e4c1a-5d8f-4f3e-9a71-2c4d6e8f0a1b';
const versionId = '7c1e2d3f-4a5b-4c6d-8e9f-0a1b2c3d4e5f';
const documentId = '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a';
const content = (changes: Partial<SummaryContent> = {}): SummaryContent => ({
  format: summaryFormat,
  consultation: {
    id: consultationId,
    reference: 'GPC-ABCD2345',
    kind: 'medical',
    mode: 'online',
    createdAt: '2026-11-20T09:15:00.000Z',
  },
  form: {
    id: '2a3b4c5d-6e7f-4a8b-9c0d-1e2f3a4b5c6d',
    title: 'Ask about a medical problem',
    url: 'https://gp-consult.example/fhir/Questionnaire/medical',
    version: null,
  },
  answers: [
    { linkId: 'chest-pain', question: 'Do you have chest pain?', answers: ['No'] },
    { linkId: 'problem', question: 'What is the problem?', answers: ['A cough'] },
    { linkId: 'symptoms', question: 'Which of these do you have?', answers: ['Fever', 'Rash'] },
  ],
  messages: [
    {
      id: 'm1',
      author: 'staff',
      authorName: 'Dr Asha Patel',
      body: 'Is the cough <dry> or productive?',
      at: '2026-11-20T10:00:00.000Z',
    },
    {
      id: 'm2',
      author: 'patient',
      authorName: null,
      body: 'Dry.\nWorse at night.',
      at: '2026-11-20T10:30:00.000Z',
    },
  ],
  files: [
    {
      id: documentId,
      key: `verified/practice/${documentId}`,
      sha256: '0'.repeat(64),
      contentType: 'image/png',
      size: 16,
      sentAt: '2026-11-20T09:14:00.000Z',
    },
  ],
  outcome: { code: '182836005', display: 'Review of medication' },
  summary: 'Cough for 3 weeks, no red flags.\nAdvised <simple linctus> & review in 2 weeks.',
  closedBy: { id: '6f1d2c3b-4a59-4e8d-b7c6-a5f4e3d2c1b0', name: 'Dr Asha Patel' },
  closedAt: '2026-11-20T11:40:00.000Z',
  ...changes,
});
const filing = (changes: Partial<SummaryContent> = {}, documents?: FilingData['documents']): FilingData => {
  const frozen = content(changes);
  return {
    practice: { odsCode: 'A81001', name: 'Riverside Surgery' },
    nhsNumber: '9434765919',
    version: { id: versionId, contentHash: 'a'.repeat(64), content: frozen },
    documents: documents ?? [
      {
        id: documentId,
        contentType: 'image/png',
        data: Buffer.from('not really a png'),
        createdAt: new Date('2026-11-20T09:14:00Z'),
      },
    ],
  };
};

const resourceOf = <T>(bundle: Bundle, type: string): T =>
  bundle.entry?.find((entry) => entry.resource?.resourceType === type)?.resource as T;

describe('the write-back bundle', () => {
  it('is one transaction of conditional creates, keyed on our own identifiers', () => {
    const bundle = buildWriteBackBundle(filing());
    assert.equal(bundle.type, 'transaction');
    assert.deepEqual(
      bundle.entry?.map((entry) => [
        entry.resource?.resourceType,
        entry.request?.method,
        entry.request?.ifNoneExist,
      ]),
      [
        [
          'Encounter',
          'POST',
          `identifier=${encodeURIComponent('https://gp-consult.example/Id/consultation')}|${consultationId}`,
        ],
        [
          'QuestionnaireResponse',
          'POST',
          `identifier=${encodeURIComponent('https://gp-consult.example/Id/consultation')}|${consultationId}`,
        ],
        [
          'Composition',
          'POST',
          `identifier=${encodeURIComponent('https://gp-consult.example/Id/consultation')}|${consultationId}`,
        ],
        [
          'DocumentReference',
          'POST',
          `identifier=${encodeURIComponent('https://gp-consult.example/Id/attachment')}|9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a`,
        ],
      ],
    );
    assert.equal(new Set(bundle.entry?.map((entry) => entry.fullUrl)).size, 4, 'every entry has its own urn');
    assert.deepEqual(buildWriteBackBundle(filing()), bundle, 'the same consultation makes the same bundle');
  });

  it('files the patient by NHS number, the practice by ODS code, and the outcome in SNOMED CT', () => {
    const bundle = buildWriteBackBundle(filing());
    const encounter = resourceOf<Encounter>(bundle, 'Encounter');
    const composition = resourceOf<Composition>(bundle, 'Composition');
    const patient = {
      type: 'Patient',
      identifier: { system: 'https://fhir.nhs.uk/Id/nhs-number', value: '9434765919' },
    };
    const practice = {
      type: 'Organization',
      identifier: { system: 'https://fhir.nhs.uk/Id/ods-organization-code', value: 'A81001' },
      display: 'Riverside Surgery',
    };
    assert.deepEqual(encounter.subject, patient);
    assert.deepEqual(composition.subject, patient);
    assert.deepEqual(encounter.serviceProvider, practice);
    assert.deepEqual(composition.custodian, practice);
    assert.equal(encounter.status, 'finished');
    assert.equal(encounter.class.code, 'VR');
    assert.deepEqual(encounter.period, {
      start: '2026-11-20T09:15:00.000Z',
      end: '2026-11-20T11:40:00.000Z',
    });
    assert.equal(encounter.participant?.[0]?.individual?.display, 'Dr Asha Patel');
    assert.equal(encounter.reasonCode?.[0]?.text, 'Online consultation: Ask about a medical problem');
    const outcome = { system: 'http://snomed.info/sct', code: '182836005', display: 'Review of medication' };
    assert.deepEqual(encounter.type?.[0]?.coding, [outcome]);
    assert.deepEqual(composition.section?.[1]?.code?.coding, [outcome]);
    assert.equal(composition.type.coding?.[0]?.code, '371530004');
    assert.equal(composition.status, 'final');
    assert.deepEqual(composition.author, [encounter.participant?.[0]?.individual]);
    // every reference to the encounter points at its entry in this bundle
    const encounterUrl = bundle.entry?.[0]?.fullUrl;
    assert.equal(composition.encounter?.reference, encounterUrl);
    assert.equal(
      resourceOf<QuestionnaireResponse>(bundle, 'QuestionnaireResponse').encounter?.reference,
      encounterUrl,
    );
    assert.deepEqual(resourceOf<DocumentReference>(bundle, 'DocumentReference').context?.encounter, [
      { reference: encounterUrl },
    ]);
  });

  it('keeps the summary as escaped XHTML narrative, line by line', () => {
    const composition = resourceOf<Composition>(buildWriteBackBundle(filing()), 'Composition');
    assert.equal(
      composition.section?.[0]?.text?.div,
      '<div xmlns="http://www.w3.org/1999/xhtml"><p>Cough for 3 weeks, no red flags.</p>' +
        '<p>Advised &lt;simple linctus&gt; &amp; review in 2 weeks.</p></div>',
    );
  });

  it('files the message thread both ways, with who wrote each message and when, and the version’s id and hash', () => {
    const composition = resourceOf<Composition>(buildWriteBackBundle(filing()), 'Composition');
    const thread = composition.section?.find((section) => section.title === 'Messages with the patient');
    assert.equal(
      thread?.text?.div,
      '<div xmlns="http://www.w3.org/1999/xhtml">' +
        '<p><b>Dr Asha Patel (practice), 20 Nov 2026, 10:00</b></p><p>Is the cough &lt;dry&gt; or productive?</p>' +
        '<p><b>Patient, 20 Nov 2026, 10:30</b></p><p>Dry.</p><p>Worse at night.</p></div>',
    );
    assert.deepEqual(composition.extension, [
      {
        url: 'https://gp-consult.example/fhir/StructureDefinition/summary-version',
        extension: [
          { url: 'id', valueString: versionId },
          { url: 'sha256', valueString: 'a'.repeat(64) },
        ],
      },
    ]);
  });

  it('files the answers in the words of the frozen version, every answer of a multi-answer question, and the patient’s files', () => {
    const bundle = buildWriteBackBundle(filing());
    const answers = resourceOf<QuestionnaireResponse>(bundle, 'QuestionnaireResponse');
    assert.equal(answers.questionnaire, 'https://gp-consult.example/fhir/Questionnaire/medical');
    assert.deepEqual(answers.item, [
      { linkId: 'chest-pain', text: 'Do you have chest pain?', answer: [{ valueString: 'No' }] },
      { linkId: 'problem', text: 'What is the problem?', answer: [{ valueString: 'A cough' }] },
      {
        linkId: 'symptoms',
        text: 'Which of these do you have?',
        answer: [{ valueString: 'Fever' }, { valueString: 'Rash' }],
      },
    ]);
    const attachment = resourceOf<DocumentReference>(bundle, 'DocumentReference').content[0]?.attachment;
    assert.equal(attachment?.contentType, 'image/png');
    assert.equal(Buffer.from(attachment?.data ?? '', 'base64').toString(), 'not really a png');
    assert.equal(attachment?.size, 16);
    const documentUrl = bundle.entry?.find(
      (entry) => entry.resource?.resourceType === 'DocumentReference',
    )?.fullUrl;
    const sent = resourceOf<Composition>(bundle, 'Composition').section?.at(-1);
    assert.equal(sent?.title, 'Sent by the patient');
    assert.deepEqual(sent?.entry, [{ reference: documentUrl }]);
  });

  it('leaves out the answers, the messages and the documents when there are none', () => {
    const bundle = buildWriteBackBundle(filing({ answers: [], messages: [], files: [] }, []));
    assert.deepEqual(
      bundle.entry?.map((entry) => entry.resource?.resourceType),
      ['Encounter', 'Composition'],
    );
    assert.deepEqual(
      resourceOf<Composition>(bundle, 'Composition').section?.map((section) => section.title),
      ['Summary', 'Outcome'],
    );
  });

  it('is valid FHIR R4 for the pinned example and for any summary, answers, messages and names (fast-check)', () => {
    assert.equal(findBundleProblems(buildWriteBackBundle(filing())), undefined);
    const text = fc.string({ minLength: 1, maxLength: 300, unit: 'binary' });
    fc.assert(
      fc.property(
        text,
        text,
        fc.array(
          fc.record({
            linkId: fc.string({ maxLength: 20 }),
            question: fc.string({ maxLength: 200, unit: 'binary' }),
            answers: fc.array(fc.string({ maxLength: 100, unit: 'binary' }), { maxLength: 4 }),
          }),
          { maxLength: 6 },
        ),
        fc.array(
          fc.record({
            id: fc.uuid(),
            author: fc.constantFrom('staff' as const, 'patient' as const),
            authorName: fc.option(fc.string({ unit: 'binary' }), { nil: null }),
            body: fc.string({ minLength: 1, maxLength: 300, unit: 'binary' }),
            at: fc.constant('2026-11-20T10:00:00.000Z'),
          }),
          { maxLength: 4 },
        ),
        (summary, clinician, answers, messages) => {
          const bundle = buildWriteBackBundle(
            filing({ summary, closedBy: { id: 'x', name: clinician }, answers, messages, files: [] }, []),
          );
          assert.equal(findBundleProblems(bundle), undefined);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reports what is wrong with an invalid bundle, by path', () => {
    const bundle = buildWriteBackBundle(filing({ files: [] }, []));
    delete (resourceOf<Encounter>(bundle, 'Encounter') as Partial<Encounter>).class;
    assert.match(findBundleProblems(bundle) ?? '', /Bundle\.entry\[0\]\.resource\.class/);
  });
});

describe('the write-back bundle on the local FHIR R4 server', () => {
  let fhir: FhirServer;
  let base: string;

  before(async () => {
    fhir = await createFhirServer({ logger: pino({ level: 'silent' }) });
    await new Promise<void>((resolve) => fhir.server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(fhir.server.address() as AddressInfo).port}${FHIR_BASE_PATH}`;
  });
  after(() => fhir.close());

  it('is filed once: sent again, the server finds what the first send made', async () => {
    const client = new FhirClient({ timeoutMs: 5000, outbound: localOutbound });
    const target = () => ({ practiceId: 'A81001', baseUrl: base, auth: { type: 'none' as const } });
    const first = await client.postTransaction(target(), buildWriteBackBundle(filing()));
    assert.equal(first.alreadyFiled, false);
    assert.equal(first.locations.length, 4);
    assert.match(first.locations[2] ?? '', /^Composition\/[\w-]+/);

    const again = await client.postTransaction(target(), buildWriteBackBundle(filing()));
    assert.equal(again.alreadyFiled, true);
    const ids = (locations: string[]) => locations.map((l) => l.split('/').slice(0, 2).join('/'));
    assert.deepEqual(ids(again.locations), ids(first.locations));

    const found = (await (
      await fetch(
        `${base}/Composition?identifier=https://gp-consult.example/Id/consultation|${consultationId}`,
      )
    ).json()) as Bundle<Composition>;
    assert.equal(found.entry?.length, 1);
    // the server resolved the in-bundle reference to the Encounter it made
    assert.equal(found.entry?.[0]?.resource?.encounter?.reference, ids(first.locations)[0]);
  });
});
