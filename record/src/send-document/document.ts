import { answerItems, fhirText } from '../fhir/bundle';
import {
  CONSULTATION_SYSTEM,
  NHS_NUMBER_SYSTEM,
  NHS_NUMBER_VERIFICATION,
  NHS_NUMBER_VERIFICATION_EXTENSION,
  NHS_NUMBER_VERIFICATION_SYSTEM,
  ODS_CODE_SYSTEM,
  ONLINE_CONSULTATION_ENCOUNTER_TYPE,
  ONLINE_CONSULTATION_REPORT_TITLE,
  ONLINE_CONSULTATION_REPORT_TYPE,
  PROFILE,
  STAFF_SYSTEM,
  UUID_SYSTEM,
  VIRTUAL_ENCOUNTER,
} from './codes';
import { derivedUuid } from './ids';
import type { SendDocumentInput } from './input';
import type { Stu3Bundle, Stu3Resource } from './types';

const escapeXhtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);
const div = (text: string): string =>
  `<div xmlns="http://www.w3.org/1999/xhtml"><p>${escapeXhtml(text)}</p></div>`;

/** The entries of one document, each with its urn:uuid; the Composition's references point at these. */
interface Ids {
  composition: string;
  patient: string;
  organization: string;
  practitioner: string;
  encounter: string;
  answers: string;
  report: string;
}

const urn = (id: string): string => `urn:uuid:${id}`;

/**
 * The ITK document Bundle (ITK-Document-Bundle-1) of an online consultation report: the CareConnect
 * Composition first, whose first section's entry is the PDF report (ITK-Attachment-Binary-1, the
 * primary attachment), then the patient, the sending practice, who closed the request, the
 * Encounter and the patient's answers as they saw them (structured, beside the PDF).
 */
export function buildDocumentBundle(input: SendDocumentInput, documentId: string, now: Date): Stu3Bundle {
  const ids: Ids = {
    composition: derivedUuid(documentId, 'composition'),
    patient: derivedUuid(documentId, 'patient'),
    organization: derivedUuid(documentId, 'organization'),
    practitioner: derivedUuid(documentId, 'practitioner'),
    encounter: derivedUuid(documentId, 'encounter'),
    answers: derivedUuid(documentId, 'answers'),
    report: derivedUuid(documentId, 'report'),
  };
  const answers = answersResource(input, ids);
  const resources: Stu3Resource[] = [
    compositionResource(input, ids, Boolean(answers)),
    patientResource(input, ids),
    organizationResource(input, ids),
    practitionerResource(input, ids),
    encounterResource(input, ids),
    ...(answers ? [answers] : []),
    reportBinary(input, ids),
  ];
  return {
    resourceType: 'Bundle',
    id: documentId,
    meta: { profile: [PROFILE.documentBundle], lastUpdated: now.toISOString() },
    identifier: { system: UUID_SYSTEM, value: documentId },
    type: 'document',
    entry: resources.map((resource) => ({ fullUrl: urn(resource.id!), resource })),
  };
}

const patientName = (input: SendDocumentInput): string =>
  `${fhirText(input.patient.givenName, '')} ${fhirText(input.patient.familyName, '')}`.trim() || 'Unknown';

function compositionResource(input: SendDocumentInput, ids: Ids, hasAnswers: boolean): Stu3Resource {
  const { content } = input.version;
  const version = input.documentVersion ?? 1;
  return {
    resourceType: 'Composition',
    id: ids.composition,
    meta: { profile: [PROFILE.composition] },
    // oc_requirements.yml's fixed narrative
    text: {
      status: 'generated',
      div: div(
        `Online consultation report for ${patientName(input)}, NHS Number ${input.nhsNumber ?? 'not known'}, Version ${version}`,
      ),
    },
    identifier: { system: UUID_SYSTEM, value: ids.composition },
    status: 'final',
    type: { coding: [{ ...ONLINE_CONSULTATION_REPORT_TYPE }] },
    subject: { reference: urn(ids.patient) },
    encounter: { reference: urn(ids.encounter) },
    date: content.closedAt,
    author: [
      { reference: urn(ids.practitioner), display: fhirText(content.closedBy.name, 'Practice clinician') },
    ],
    title: ONLINE_CONSULTATION_REPORT_TITLE,
    custodian: { reference: urn(ids.organization) },
    // oc_requirements.yml says relatesTo names "the UUID of the previous message"; Update Record
    // (the same ITK3 family) replaces by targetIdentifier: the earlier document Bundle's identifier
    // is used, the one thing a replacement can name unambiguously (uncertain: check the live spec)
    ...(input.replacesDocumentId
      ? {
          relatesTo: [
            { code: 'replaces', targetIdentifier: { system: UUID_SYSTEM, value: input.replacesDocumentId } },
          ],
        }
      : {}),
    section: [
      {
        title: ONLINE_CONSULTATION_REPORT_TITLE,
        text: { status: 'generated', div: div('The online consultation report (PDF).') },
        entry: [{ reference: urn(ids.report) }],
      },
      ...(hasAnswers
        ? [
            {
              title: "The patient's answers",
              text: { status: 'generated', div: div('The questions and answers as the patient saw them.') },
              entry: [{ reference: urn(ids.answers) }],
            },
          ]
        : []),
    ],
  };
}

/**
 * CareConnect-Patient-1 with the NHS number and its verification status: 01 (verified) when the
 * patient's identity was confirmed for this number (a verified PDS trace staff confirmed, or NHS login
 * at P9), 02 (present but not traced) otherwise, which `validateItkMessage` refuses.
 */
function patientResource(input: SendDocumentInput, ids: Ids): Stu3Resource {
  const status = input.identityConfirmed ? '01' : '02';
  return {
    resourceType: 'Patient',
    id: ids.patient,
    meta: { profile: [PROFILE.patient] },
    identifier: input.nhsNumber
      ? [
          {
            extension: [
              {
                url: NHS_NUMBER_VERIFICATION_EXTENSION,
                valueCodeableConcept: {
                  coding: [
                    {
                      system: NHS_NUMBER_VERIFICATION_SYSTEM,
                      code: status,
                      display: NHS_NUMBER_VERIFICATION[status],
                    },
                  ],
                },
              },
            ],
            system: NHS_NUMBER_SYSTEM,
            value: input.nhsNumber.replace(/\s+/g, ''),
          },
        ]
      : [],
    name: [
      {
        use: 'official',
        family: fhirText(input.patient.familyName),
        given: [fhirText(input.patient.givenName)],
      },
    ],
    birthDate: input.patient.birthDate,
  };
}

function organizationResource(input: SendDocumentInput, ids: Ids): Stu3Resource {
  return {
    resourceType: 'Organization',
    id: ids.organization,
    meta: { profile: [PROFILE.organization] },
    identifier: [{ system: ODS_CODE_SYSTEM, value: input.senderOdsCode }],
    name: fhirText(input.practice.name, input.practice.odsCode),
  };
}

/**
 * Who closed the request. The summary holds their name as one string: CareConnect-Practitioner-1
 * wants a family name, so its last word is taken as one (a guess, kept beside the whole name as
 * `text`); a title such as "Dr" is kept as a prefix. Staff here have no SDS user id, so they are
 * identified by our own staff id (uncertain: a GP system may want an SDS id or a PractitionerRole).
 */
function practitionerResource(input: SendDocumentInput, ids: Ids): Stu3Resource {
  const whole = fhirText(input.version.content.closedBy.name, 'Practice clinician');
  const words = whole.split(/\s+/);
  const prefix =
    /^(dr|mr|mrs|ms|miss|mx|prof)\.?$/i.test(words[0] ?? '') && words.length > 1 ? [words.shift()!] : [];
  const family = words.pop() ?? whole;
  return {
    resourceType: 'Practitioner',
    id: ids.practitioner,
    meta: { profile: [PROFILE.practitioner] },
    identifier: [{ system: STAFF_SYSTEM, value: input.version.content.closedBy.id }],
    name: [
      {
        text: whole,
        family,
        ...(words.length > 0 ? { given: words } : {}),
        ...(prefix.length > 0 ? { prefix } : {}),
      },
    ],
  };
}

function encounterResource(input: SendDocumentInput, ids: Ids): Stu3Resource {
  const { content } = input.version;
  return {
    resourceType: 'Encounter',
    id: ids.encounter,
    meta: { profile: [PROFILE.encounter] },
    identifier: [{ system: CONSULTATION_SYSTEM, value: content.consultation.id }],
    status: 'finished',
    class: { ...VIRTUAL_ENCOUNTER },
    type: [{ coding: [{ ...ONLINE_CONSULTATION_ENCOUNTER_TYPE }] }],
    subject: { reference: urn(ids.patient) },
    participant: [{ individual: { reference: urn(ids.practitioner) } }],
    period: { start: content.consultation.createdAt, end: content.closedAt },
    serviceProvider: { reference: urn(ids.organization) },
  };
}

/** The answers as the patient saw them (the form version's own words); undefined when there are none. */
function answersResource(input: SendDocumentInput, ids: Ids): Stu3Resource | undefined {
  const { content } = input.version;
  const items = answerItems(content.answers);
  if (items.length === 0) return undefined;
  const form = content.form;
  return {
    resourceType: 'QuestionnaireResponse',
    id: ids.answers,
    meta: { profile: [PROFILE.questionnaireResponse] },
    identifier: { system: CONSULTATION_SYSTEM, value: content.consultation.id },
    // STU3: a Reference to the Questionnaire (R4 has a canonical)
    ...(form?.url
      ? { questionnaire: { reference: form.version ? `${form.url}|${form.version}` : form.url } }
      : {}),
    status: 'completed',
    subject: { reference: urn(ids.patient) },
    context: { reference: urn(ids.encounter) },
    authored: content.consultation.createdAt,
    source: { reference: urn(ids.patient) },
    item: items,
  };
}

/** The PDF report, the document's primary attachment: ITK-Attachment-Binary-1, base64. */
function reportBinary(input: SendDocumentInput, ids: Ids): Stu3Resource {
  return {
    resourceType: 'Binary',
    id: ids.report,
    meta: { profile: [PROFILE.attachmentBinary] },
    contentType: 'application/pdf',
    content: input.pdf.toString('base64'),
  };
}
