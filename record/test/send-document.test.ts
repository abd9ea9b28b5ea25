import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  buildItkAcknowledgement,
  buildSendDocumentMessage,
  describeItkCode,
  ItkAcknowledgementInvalid,
  parseItkAcknowledgement,
  renderConsultationReportPdf,
  validateItkMessage,
  type Stu3Bundle,
  type Stu3Resource,
} from '../src/send-document';
import { schemaProblems, unknownElements } from '../src/send-document/schema';
import { isSnomedConceptId } from '../src/send-document/snomed';
import { readPdf } from './support/pdf-text';
import { content, documentId, messageId, photos, sendDocumentInput } from './support/send-document';

type Json = Record<string, unknown>;
const header = (bundle: Stu3Bundle): Json => bundle.entry![0]!.resource as Json;
const documentOf = (bundle: Stu3Bundle): Stu3Bundle => bundle.entry![2]!.resource as Stu3Bundle;
const inDocument = (bundle: Stu3Bundle, type: string): Json =>
  documentOf(bundle).entry!.find((entry) => entry.resource?.resourceType === type)!.resource as Json;
const built = (changes: Parameters<typeof sendDocumentInput>[0] = {}): Stu3Bundle =>
  buildSendDocumentMessage(sendDocumentInput(changes)).bundle;
/** The problems of a message that must fail; fails the test when it passes. */
function problemsOf(bundle: unknown): { problems: string[]; itkCode: string } {
  const result = validateItkMessage(bundle);
  assert.equal(result.ok, false, 'the message should have been refused');
  return result;
}
const handlingKey = (bundle: Stu3Bundle, url: string): Json =>
  ((header(bundle).extension as Json[])[0]!.extension as Json[]).find((key) => key.url === url)!;

describe('GP Connect Send Document message', () => {
  it('a message built from a closed consultation passes the STU3 schema and the ITK3, Send Document and CareConnect rules', () => {
    const { bundle, messageId: id, documentId: document } = buildSendDocumentMessage(sendDocumentInput());
    assert.deepEqual(validateItkMessage(bundle), { ok: true });
    assert.equal(id, messageId);
    assert.equal(document, documentId);
    assert.equal(header(bundle).id, messageId);
    assert.deepEqual(header(bundle).event, {
      system: 'https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2',
      code: 'ITK007C',
      display: 'ITK GP Connect Send Document',
    });
    assert.equal(handlingKey(bundle, 'BusAckRequested').valueBoolean, true);
    assert.equal(handlingKey(bundle, 'InfAckRequested').valueBoolean, true);
    assert.equal((handlingKey(bundle, 'RecipientType').valueCoding as Json).code, 'FA');
    assert.equal(handlingKey(bundle, 'LocalExtension').valueString, 'SendDocument-OnlineConsultationReport');
    assert.equal(handlingKey(bundle, 'SenderReference').valueString, content.consultation.id);
    assert.equal(documentOf(bundle).identifier?.value, documentId);
    const composition = inDocument(bundle, 'Composition');
    assert.equal(composition.title, 'Online consultation report');
    assert.equal(((composition.type as Json).coding as Json[])[0]!.code, '149951000000107');
    assert.equal(composition.relatesTo, undefined, 'a first send replaces nothing');
    const patient = inDocument(bundle, 'Patient');
    assert.equal(patient.birthDate, '1985-07-14');
    assert.equal((patient.identifier as Json[])[0]!.value, '9434765919');
    assert.equal(inDocument(bundle, 'Binary').contentType, 'application/pdf');
    assert.equal(
      (((inDocument(bundle, 'Encounter').type as Json[])[0]!.coding as Json[])[0] as Json).code,
      '149971000000103',
    );
    const answers = inDocument(bundle, 'QuestionnaireResponse');
    assert.deepEqual(
      (answers.item as Json[]).map((item) => [
        item.text,
        (item.answer as Json[]).map((answer) => answer.valueString),
      ]),
      content.answers.map((shown) => [shown.question, shown.answers]),
    );
  });

  it('a re-send replaces the earlier document with relatesTo, and is valid', () => {
    const earlier = '11111111-2222-4333-8444-555555555555';
    const bundle = built({
      replacesDocumentId: earlier,
      documentVersion: 2,
      documentId: '22222222-3333-4444-8555-666666666666',
    });
    assert.deepEqual(validateItkMessage(bundle), { ok: true });
    assert.deepEqual(inDocument(bundle, 'Composition').relatesTo, [
      {
        code: 'replaces',
        targetIdentifier: { system: 'https://tools.ietf.org/html/rfc4122', value: earlier },
      },
    ]);
    assert.match(JSON.stringify(inDocument(bundle, 'Composition').text), /Version 2/);
  });

  it('a code outside its value set or with a wrong SNOMED CT check digit is refused, naming the element', () => {
    const bundle = built();
    const composition = inDocument(bundle, 'Composition');
    composition.status = 'draft';
    ((composition.type as Json).coding as Json[])[0]!.code = '149951000000108';
    (handlingKey(bundle, 'RecipientType').valueCoding as Json).code = 'XX';
    const { problems } = problemsOf(bundle);
    assert.ok(
      problems.some((problem) =>
        /^schema: .*\.status must be equal to one of the allowed values/.test(problem),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((problem) =>
        /^code: .*\.type\.coding\[0\]\.code '149951000000108' is not a SNOMED CT concept id/.test(problem),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((problem) =>
        /^code: .*valueCoding\.code 'XX' is not in https:\/\/fhir\.nhs\.uk\/STU3\/CodeSystem\/ITK-RecipientType-1/.test(
          problem,
        ),
      ),
      problems.join('\n'),
    );
    assert.ok(
      problems.includes(
        'itk-document: Composition.type is not SNOMED CT 149951000000107 (Patient information received using general practice online consultation system)',
      ),
    );
  });

  it('real SNOMED CT concept ids pass the check digit whatever digit stands fifth from the right, and a mistyped one does not', () => {
    // asthma, fever, headache, urinary tract infection: a 6, 7 or 8 fifth from the right, where a
    // mistyped row of Verhoeff's permutation table once refused them
    for (const code of ['195967001', '386661006', '25064002', '68566005', '149951000000107', '448337001']) {
      assert.equal(isSnomedConceptId(code), true, code);
      const mistyped = code.slice(0, -1) + String((Number(code.at(-1)) + 1) % 10);
      assert.equal(isSnomedConceptId(mistyped), false, mistyped);
    }
  });

  it('an element STU3 does not define is refused as unknown, wherever it is', () => {
    const bundle = built();
    inDocument(bundle, 'Patient').nickname = 'Janey';
    (header(bundle).source as Json).name = 'Riverside'; // an STU3 element: not flagged
    (header(bundle).source as Json).colour = 'blue';
    const { problems, itkCode } = problemsOf(bundle);
    assert.deepEqual(
      problems.filter((problem) => problem.startsWith('unknown-element')),
      [
        'unknown-element: Bundle.entry[0].resource.source.colour is not an element of MessageHeader_Source',
        'unknown-element: Bundle.entry[2].resource.entry[1].resource.nickname is not an element of Patient',
      ],
    );
    assert.equal(itkCode, '20009');
  });

  it('a patient with no NHS number is refused, and the message is never sendable', () => {
    const { problems } = problemsOf(built({ nhsNumber: null }));
    assert.deepEqual(problems, [
      'patient: Patient has no NHS number (an identifier with system https://fhir.nhs.uk/Id/nhs-number)',
    ]);
  });

  it('a patient whose identity is not confirmed is refused as unverified, without their details in the problem', () => {
    const { problems } = problemsOf(built({ identityConfirmed: false }));
    assert.deepEqual(problems, [
      "patient: Patient's NHS number is not verified (status 02, not 01 Number present and verified)",
    ]);
    const invalid = problemsOf(built({ nhsNumber: '9434765918' })).problems;
    assert.deepEqual(invalid, [
      "patient: Patient's NHS number is not a valid NHS number (10 digits, modulus 11)",
    ]);
    for (const problem of [...problems, ...invalid]) {
      assert.doesNotMatch(problem, /943|Jane|Smith|1985/);
    }
  });

  it('a message whose event is not ITK007C is refused with the ITK3 header code 10008', () => {
    const bundle = built();
    (header(bundle).event as Json).code = 'ITK008M';
    const { problems, itkCode } = problemsOf(bundle);
    assert.deepEqual(problems, [
      'itk-message: MessageHeader.event is https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2#ITK008M, not https://fhir.nhs.uk/STU3/CodeSystem/ITK-MessageEvent-2#ITK007C (ITK GP Connect Send Document)',
    ]);
    assert.equal(itkCode, '10008');
  });

  it('a message that asks for no infrastructure acknowledgement is refused with 10002', () => {
    const bundle = built();
    handlingKey(bundle, 'InfAckRequested').valueBoolean = false;
    const { problems, itkCode } = problemsOf(bundle);
    assert.deepEqual(problems, ['itk-message: handling key InfAckRequested is not true']);
    assert.equal(itkCode, '10002');
  });

  it('a message without the PDF report, or with something else in its place, is refused', () => {
    const bundle = built();
    const document = documentOf(bundle);
    document.entry = document.entry!.filter((entry) => entry.resource?.resourceType !== 'Binary');
    const missing = problemsOf(bundle).problems;
    assert.ok(
      missing.includes(
        "attachment: the Composition's first section does not reference the PDF report (a Binary in the document)",
      ),
      missing.join('\n'),
    );
    assert.ok(
      missing.includes(
        'reference: document entry[0].section[0].entry[0].reference is not an entry of the document',
      ),
    );
    const notPdf = problemsOf(built({ pdf: Buffer.from('<html>not a pdf</html>') })).problems;
    assert.deepEqual(notPdf, ["attachment: the report Binary's content is not a PDF"]);
  });

  it('a resource inside another is checked against its own definition, and an unknown resource type is refused', () => {
    const bundle = built();
    inDocument(bundle, 'Patient').contained = [{ resourceType: 'Organization', active: 'yes' }];
    documentOf(bundle).entry!.push({
      fullUrl: 'urn:uuid:3b0e1f2a-1111-4222-8333-444455556666',
      resource: { resourceType: 'HumanName' },
    });
    const { problems } = problemsOf(bundle);
    assert.deepEqual(
      problems.filter((problem) => /^(schema|unknown-element):/.test(problem)),
      [
        'schema: Bundle.entry[2].resource.entry[1].resource.contained[0].active must be boolean',
        "schema: Bundle.entry[2].resource.entry[7].resource has resourceType 'HumanName', which is not an STU3 resource",
        "unknown-element: Bundle.entry[2].resource.entry[7].resource is not an STU3 resource (resourceType 'HumanName')",
      ],
    );
  });

  it('anything that is not a FHIR Bundle is refused', () => {
    assert.deepEqual(validateItkMessage('{}'), {
      ok: false,
      problems: ['itk-message: the message is not a FHIR Bundle'],
      itkCode: '10008',
    });
    assert.equal(validateItkMessage({ resourceType: 'Bundle', type: 'message', entry: [] }).ok, false);
  });
});

describe('ITK3 acknowledgements', () => {
  const original = (): Stu3Bundle => built();

  it('an infrastructure acknowledgement is valid STU3 and reads back as the code and the message it answers', () => {
    for (const code of ['20013', '20009', '20015'] as const) {
      const ack = buildItkAcknowledgement({
        original: original(),
        kind: 'infrastructure',
        code,
        senderOdsCode: 'A81001',
      });
      for (const entry of ack.entry!)
        assert.deepEqual(schemaProblems(entry.resource as Json, entry.resource!.resourceType), []);
      assert.deepEqual(schemaProblems(ack, 'Bundle'), []);
      assert.deepEqual(unknownElements(ack, 'ResourceList', 'Bundle'), []);
      const read = parseItkAcknowledgement(JSON.stringify(ack));
      assert.deepEqual(read, {
        kind: 'infrastructure',
        code,
        acknowledgedMessageId: messageId,
        text: describeItkCode(code),
      });
      assert.equal(
        ((ack.entry![0]!.resource as Json).response as Json).code,
        code === '20013' ? 'ok' : 'fatal-error',
      );
    }
  });

  it("a business acknowledgement reads back as filed (30001) or as the reason it was not, with the GP system's words", () => {
    const filed = parseItkAcknowledgement(
      buildItkAcknowledgement({
        original: original(),
        kind: 'business',
        code: '30001',
        senderOdsCode: 'A81001',
      }),
    );
    assert.equal(filed.kind, 'business');
    assert.equal(filed.code, '30001');
    const notHere = parseItkAcknowledgement(
      buildItkAcknowledgement({
        original: original(),
        kind: 'business',
        code: '30002',
        senderOdsCode: 'A81001',
        diagnostics: 'No such patient',
      }),
    );
    assert.deepEqual(notHere, {
      kind: 'business',
      code: '30002',
      acknowledgedMessageId: messageId,
      text: 'patient not registered at this practice',
      diagnostics: 'No such patient',
    });
  });

  it('an acknowledgement of the wrong kind for its code is not built', () => {
    assert.throws(
      () =>
        buildItkAcknowledgement({
          original: original(),
          kind: 'business',
          code: '20013',
          senderOdsCode: 'A81001',
        }),
      /20013 is not an business/,
    );
    assert.throws(
      () =>
        buildItkAcknowledgement({
          original: { resourceType: 'Bundle', type: 'message' },
          kind: 'infrastructure',
          code: '20013',
          senderOdsCode: 'A81001',
        }),
      /not an ITK3 message/,
    );
  });

  it('what is not an ITK3 acknowledgement is refused with ITK_ACK_INVALID and where it failed', () => {
    const ack = (): Json =>
      JSON.parse(
        JSON.stringify(
          buildItkAcknowledgement({
            original: original(),
            kind: 'infrastructure',
            code: '20013',
            senderOdsCode: 'A81001',
          }),
        ),
      ) as Json;
    const refused = (value: unknown, reason: RegExp): void => {
      assert.throws(
        () => parseItkAcknowledgement(value),
        (error: unknown) =>
          error instanceof ItkAcknowledgementInvalid &&
          error.code === 'ITK_ACK_INVALID' &&
          reason.test(error.reason),
      );
    };
    refused('not json {', /not JSON/);
    refused({ resourceType: 'Patient' }, /not a FHIR message Bundle/);
    refused(built(), /event is not ITK008M/);
    const noResponse = ack();
    delete ((noResponse.entry as Json[])[0]!.resource as Json).response;
    refused(noResponse, /names no message/);
    const unknownCode = ack();
    const outcome = (unknownCode.entry as Json[])[2]!.resource as Json;
    (((outcome.issue as Json[])[0]!.details as Json).coding as Json[])[0]!.code = '29999';
    refused(unknownCode, /'29999' is not an ITK3 response code/);
    const contradicts = ack();
    (((contradicts.entry as Json[])[0]!.resource as Json).response as Json).code = 'fatal-error';
    refused(contradicts, /contradicts ITK3 code 20013/);
  });

  it('each response code is described in words for staff', () => {
    assert.equal(describeItkCode('20009'), 'payload validation failure');
    assert.equal(describeItkCode('20015'), 'the message is too large');
    assert.equal(describeItkCode('30002'), 'patient not registered at this practice');
    assert.equal(describeItkCode('30003'), 'patient no longer registered at this practice');
    assert.equal(describeItkCode('30004'), 'patient known at this practice and recently deceased');
  });
});

describe('the PDF report', () => {
  it('the PDF report shows the practice, the patient, the answers, the messages, the outcome, the summary and who closed it', async () => {
    const pdf = await renderConsultationReportPdf({
      ...sendDocumentInput(),
      generatedAt: new Date('2026-11-20T11:05:00Z'),
    });
    const read = await readPdf(pdf);
    const lines = read.text.split('\n').map((line) => line.trim());
    for (const expected of [
      'Online consultation report',
      'Riverside Surgery (ODS code A81001)',
      'Name: Jane Smith',
      'Date of birth: 14 July 1985',
      'NHS number: 943 476 5919',
      'Reference: GPC-ABCD2345',
      'Form: Ask about a medical problem',
      'Do you have chest pain?',
      'What is the problem?',
      'A dry cough for three weeks',
      'Which of these do you have?',
      'Fever',
      'Rash on both arms',
      'Dr Asha Patel (practice), 20 November 2026 at 10:00',
      'Is the cough dry or productive?',
      'Patient, 20 November 2026 at 10:30',
      'Worse at night.',
      'Telemedicine consultation with patient (SNOMED CT 448337001)',
      'Viral cough likely. Safety-netting advice given: call 111 if breathless.',
      'Closed by: Dr Asha Patel',
      'Closed: 20 November 2026 at 11:00',
    ]) {
      assert.ok(lines.includes(expected), `the report should show "${expected}":\n${read.text}`);
    }
    // each question comes before its own answers
    assert.ok(lines.indexOf('What is the problem?') < lines.indexOf('A dry cough for three weeks'));
    assert.ok(lines.indexOf('A dry cough for three weeks') < lines.indexOf('Which of these do you have?'));
    assert.equal(read.images, 0);
    assert.equal(read.title, 'Online consultation report: Jane Smith');
  });

  it('the PDF report embeds the photos the patient sent and names the patient on every page', async () => {
    const pdf = await renderConsultationReportPdf({
      ...sendDocumentInput({ documents: await photos() }),
      generatedAt: new Date('2026-11-20T11:05:00Z'),
    });
    const read = await readPdf(pdf);
    assert.equal(read.images, 2, 'a JPEG and a PNG are drawn');
    assert.match(read.text, /Photo 1 of 2, sent 20 November 2026 at 09:14/);
    assert.match(read.text, /Photo 2 of 2, sent 20 November 2026 at 09:14/);
    read.pages.forEach((page, index) => {
      assert.match(
        page,
        new RegExp(`Jane Smith • NHS number 943 476 5919 • Page ${index + 1} of ${read.pages.length}`),
      );
    });
  });

  it('a file that is not a photo is listed, not drawn; names are shown as written, and what the fonts cannot draw as ?', async () => {
    const pdf = await renderConsultationReportPdf({
      ...sendDocumentInput({
        documents: [
          {
            id: 'f3',
            contentType: 'application/pdf',
            data: Buffer.from('%PDF-1.4'),
            createdAt: new Date('2026-11-20T09:14:00Z'),
          },
        ],
        patient: { givenName: 'Łukasz', familyName: 'Wójcik-Ağaoğlu', birthDate: '1990-02-03' },
        version: {
          id: 'v',
          contentHash: 'a'.repeat(64),
          content: { ...content, summary: 'Cough 咳 better' },
        },
      }),
    });
    const read = await readPdf(pdf);
    assert.equal(read.images, 0);
    assert.match(read.text, /File 1 of 1, sent .* \(application\/pdf\): not shown in this report/);
    assert.match(read.text, /Cough \? better/);
    assert.match(read.text, /Name: Łukasz Wójcik-Ağaoğlu/);
  });

  it('reports share the fonts parsed once per process, yet each comes out byte for byte as it does alone', async () => {
    const generatedAt = new Date('2026-11-20T11:05:00Z');
    const plain = sendDocumentInput({ generatedAt });
    const other = sendDocumentInput({
      generatedAt,
      documents: await photos(),
      patient: { givenName: 'Zoë', familyName: 'Ørsted-Ağaoğlu', birthDate: '1970-01-01' },
      version: {
        id: 'v',
        contentHash: 'a'.repeat(64),
        content: { ...content, summary: 'Ελληνικά, Кириллица, 咳' },
      },
    });
    const first = await renderConsultationReportPdf(plain);
    // the other report draws glyphs the first does not: none of them may reach the first's font subset
    const otherFirst = await renderConsultationReportPdf(other);
    const [again, otherAgain] = await Promise.all([
      renderConsultationReportPdf(plain),
      renderConsultationReportPdf(other),
    ]);
    assert.ok(again.equals(first));
    assert.ok(otherAgain.equals(otherFirst));
    assert.ok(!first.equals(otherFirst));
  });

  it('a message carrying the rendered report is valid and its PDF reads back the same', async () => {
    const input = sendDocumentInput({ documents: await photos() });
    const pdf = await renderConsultationReportPdf(input);
    const { bundle } = buildSendDocumentMessage({ ...input, pdf });
    assert.deepEqual(validateItkMessage(bundle), { ok: true });
    const carried = Buffer.from(String((inDocument(bundle, 'Binary') as Stu3Resource).content), 'base64');
    assert.ok(carried.equals(pdf));
    assert.match((await readPdf(carried)).text, /Viral cough likely/);
  });
});
