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
import { createFhirServer, FHIR_BASE_PATH, type FhirServer } from '@gpc/local-fhir-server';
import { buildWriteBackBundle, type FilingData } from '../src/fhir/bundle';
import { FhirClient } from '../src/fhir/client';
import { findBundleProblems } from '../src/fhir/validate';

const consultationId = '0b6e4c1a-5d8f-4f3e-9a71-2c4d6e8f0a1b';
const filing = (changes: Partial<FilingData> = {}): FilingData => ({
  consultationId,
  reference: 'GPC-ABCD2345',
  kind: 'medical',
  mode: 'online',
  practice: { odsCode: 'A81001', name: 'Riverside Surgery' },
  nhsNumber: '9434765919',
  createdAt: new Date('2026-11-20T09:15:00Z'),
  closedAt: new Date('2026-11-20T11:40:00Z'),
  closedBy: { id: '6f1d2c3b-4a59-4e8d-b7c6-a5f4e3d2c1b0', name: 'Dr Asha Patel' },
  outcome: { code: '182836005', display: 'Review of medication' },
  summary: 'Cough for 3 weeks, no red flags.\nAdvised <simple linctus> & review in 2 weeks.',
  formTitle: 'Ask about a medical problem',
  answers: {
    questionnaire: 'https://gp-consult.example/fhir/Questionnaire/medical',
    item: [
      { linkId: 'chest-pain', answer: [{ valueBoolean: false }] },
      { linkId: 'problem', text: 'What is the problem?', answer: [{ valueString: 'A cough' }] },
      // what a browser might add: dropped, never sent
      { linkId: 'duration', answer: [{ valueCoding: { code: 'weeks' } }], junk: 'x' },
      { linkId: 'empty', answer: [{ valueString: '' }] },
    ],
  },
  documents: [
    {
      id: '9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a',
      contentType: 'image/png',
      data: Buffer.from('not really a png'),
      createdAt: new Date('2026-11-20T09:14:00Z'),
    },
  ],
  ...changes,
});

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

  it('sends only what FHIR defines for answers, and the patient’s files as attachments', () => {
    const bundle = buildWriteBackBundle(filing());
    assert.deepEqual(resourceOf<QuestionnaireResponse>(bundle, 'QuestionnaireResponse').item, [
      { linkId: 'chest-pain', answer: [{ valueBoolean: false }] },
      { linkId: 'problem', text: 'What is the problem?', answer: [{ valueString: 'A cough' }] },
      { linkId: 'duration', answer: [{ valueCoding: { code: 'weeks' } }] },
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

  it('leaves out the answers when there are none, and the documents when there are none', () => {
    const bundle = buildWriteBackBundle(filing({ answers: null, documents: [] }));
    assert.deepEqual(
      bundle.entry?.map((entry) => entry.resource?.resourceType),
      ['Encounter', 'Composition'],
    );
    assert.deepEqual(
      resourceOf<Composition>(bundle, 'Composition').section?.map((section) => section.title),
      ['Summary', 'Outcome'],
    );
  });

  it('is valid FHIR R4 for the pinned example and for any summary, answers and names (fast-check)', () => {
    assert.equal(findBundleProblems(buildWriteBackBundle(filing())), undefined);
    const text = fc.string({ minLength: 1, maxLength: 300, unit: 'binary' });
    fc.assert(
      fc.property(
        text,
        text,
        fc.array(
          fc.record({
            linkId: fc.string({ maxLength: 20 }),
            text: fc.option(fc.string(), { nil: undefined }),
            answer: fc.array(
              fc.oneof(
                fc.record({ valueString: fc.string() }),
                fc.record({ valueBoolean: fc.boolean() }),
                fc.record({ valueInteger: fc.integer() }),
                fc.record({ junk: fc.string() }),
              ),
            ),
          }),
          { maxLength: 6 },
        ),
        (summary, clinician, item) => {
          const bundle = buildWriteBackBundle(
            filing({ summary, closedBy: { id: 'x', name: clinician }, answers: { item }, documents: [] }),
          );
          assert.equal(findBundleProblems(bundle), undefined);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('reports what is wrong with an invalid bundle, by path', () => {
    const bundle = buildWriteBackBundle(filing({ documents: [] }));
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
    const client = new FhirClient({ timeoutMs: 5000 });
    const first = await client.postTransaction(base, { type: 'none' }, buildWriteBackBundle(filing()));
    assert.equal(first.alreadyFiled, false);
    assert.equal(first.locations.length, 4);
    assert.match(first.locations[2] ?? '', /^Composition\/[\w-]+/);

    const again = await client.postTransaction(base, { type: 'none' }, buildWriteBackBundle(filing()));
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
