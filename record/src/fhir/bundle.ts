import type {
  Bundle,
  BundleEntry,
  Composition,
  CompositionSection,
  DocumentReference,
  Encounter,
  Organization,
  Patient,
  Practitioner,
  QuestionnaireResponse,
  QuestionnaireResponseItem,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type { SummaryContent, SummaryMessage } from '@gpc/contracts';
import {
  ATTACHMENT_SYSTEM,
  CONSULTATION_SYSTEM,
  NHS_NUMBER_SYSTEM,
  ODS_CODE_SYSTEM,
  SNOMED_SYSTEM,
  STAFF_SYSTEM,
  SUMMARY_VERSION_EXTENSION,
} from './identifiers';

/**
 * Everything one write-back files: the summary version its write-back names (frozen with the close,
 * checked against its hash when loaded) and the files it lists, read from their verified copies;
 * the patient's NHS number and the practice as they stand (the patient may be matched after the close).
 */
export interface FilingData {
  /** Checked before a bundle is built: a summary is only ever filed against a valid NHS number. */
  nhsNumber: string;
  practice: { odsCode: string; name: string };
  version: { id: string; contentHash: string; content: SummaryContent };
  /** The version's files, in its order, with the bytes its hashes were checked against. */
  documents: FilingDocument[];
}

export interface FilingDocument {
  id: string;
  contentType: string;
  data: Buffer;
  createdAt: Date;
}

/** SNOMED CT 371530004 |Clinical consultation report|: the kind of document the summary is. */
const CONSULTATION_REPORT = {
  system: SNOMED_SYSTEM,
  code: '371530004',
  display: 'Clinical consultation report',
};
/** SNOMED CT 419891008 |Record artifact|: a file the patient sent. */
const RECORD_ARTIFACT = { system: SNOMED_SYSTEM, code: '419891008', display: 'Record artifact' };
/** HL7 v3 ActCode VR |virtual|: the encounter happened online or by video, not face to face. */
const VIRTUAL = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode',
  code: 'VR',
  display: 'virtual',
};

/**
 * Text as FHIR's `string` allows it (no control characters, no whitespace but space, tab and line
 * breaks, no broken surrogates) and as XML can carry it; `fallback` when nothing is left.
 */
export function fhirText(text: string, fallback = '-'): string {
  const cleaned = text
    .replace(/[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/g, '\uFFFD')
    // eslint-disable-next-line no-control-regex -- these are exactly what must go
    .replace(/[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F\uFFFE\uFFFF]/g, '')
    .replace(/[^\S \r\n\t]/gu, ' ')
    .trim();
  return cleaned === '' ? fallback : cleaned;
}

/**
 * The answers as QuestionnaireResponse items, the same in R4 and STU3: each question in the words
 * of the form version answered, each answer as text. A form's questions have link ids and answers;
 * anything else has nothing FHIR could carry.
 */
export function answerItems(answers: SummaryContent['answers']) {
  return answers
    .filter((shown) => fhirText(shown.linkId, '') !== '' && shown.answers.length > 0)
    .map((shown) => ({
      linkId: fhirText(shown.linkId),
      text: fhirText(shown.question, shown.linkId),
      answer: shown.answers.map((answer) => ({ valueString: fhirText(answer) })),
    }));
}

const escapeXhtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);

/** Narrative for the GP record: the summary as the clinician wrote it, line breaks kept. */
const narrative = (text: string): string =>
  `<div xmlns="http://www.w3.org/1999/xhtml">${fhirText(text)
    .split(/\r?\n/)
    .map((line) => `<p>${escapeXhtml(line)}</p>`)
    .join('')}</div>`;

/** What every resource of one consultation's bundle refers to. */
interface BundleContext {
  content: SummaryContent;
  patient: Reference<Patient>;
  practice: Reference<Organization>;
  clinician: Reference<Practitioner>;
  consultationIdentifier: { system: string; value: string };
  encounterRef: Reference<Encounter>;
  outcome: { system: string; code: string; display: string };
  /** Why the patient was seen, as the Encounter and the Composition's title say it. */
  reason: string;
}

/**
 * One FHIR R4 `transaction` Bundle per consultation, built from its summary version alone: the
 * Encounter, the patient's answers in the form's own words, the clinician's summary and the message
 * thread as a Composition (carrying the version's id and content hash), and a DocumentReference per
 * file the patient sent. The patient is referenced by NHS number and the practice by ODS code
 * (logical references: the GP system resolves them against its own records). Every entry is a
 * create conditional on our own identifier, so sending the same bundle twice files it once.
 */
export function buildWriteBackBundle(data: FilingData): Bundle {
  const context = bundleContext(data);
  const consultationId = context.content.consultation.id;
  const answers = answersResource(context);
  const entries: BundleEntry[] = [
    entry(`urn:uuid:${consultationId}`, encounterResource(context)),
    ...(answers ? [entry(`urn:uuid:${derivedUuid(consultationId, 'qr')}`, answers)] : []),
    entry(`urn:uuid:${derivedUuid(consultationId, 'composition')}`, compositionResource(data, context)),
    ...data.documents.map((document) =>
      entry(`urn:uuid:${document.id}`, documentResource(document, context)),
    ),
  ];
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

function bundleContext(data: FilingData): BundleContext {
  const { content } = data.version;
  const formTitle = content.form?.title;
  return {
    content,
    patient: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: data.nhsNumber } },
    practice: {
      type: 'Organization',
      identifier: { system: ODS_CODE_SYSTEM, value: data.practice.odsCode },
      display: fhirText(data.practice.name, data.practice.odsCode),
    },
    clinician: {
      type: 'Practitioner',
      identifier: { system: STAFF_SYSTEM, value: content.closedBy.id },
      display: fhirText(content.closedBy.name, 'Practice clinician'),
    },
    consultationIdentifier: { system: CONSULTATION_SYSTEM, value: content.consultation.id },
    encounterRef: { reference: `urn:uuid:${content.consultation.id}` },
    outcome: {
      system: SNOMED_SYSTEM,
      code: content.outcome.code,
      display: fhirText(content.outcome.display),
    },
    reason: `${content.consultation.mode === 'video' ? 'Video' : 'Online'} consultation${formTitle ? `: ${fhirText(formTitle)}` : ''}`,
  };
}

function encounterResource(context: BundleContext): Encounter {
  const { content } = context;
  return {
    resourceType: 'Encounter',
    identifier: [
      context.consultationIdentifier,
      { system: `${CONSULTATION_SYSTEM}-reference`, value: content.consultation.reference },
    ],
    status: 'finished',
    class: VIRTUAL,
    type: [{ coding: [context.outcome], text: context.outcome.display }],
    subject: context.patient,
    participant: [{ individual: context.clinician }],
    period: { start: content.consultation.createdAt, end: content.closedAt },
    reasonCode: [{ text: context.reason }],
    serviceProvider: context.practice,
  };
}

/**
 * The patient's answers as staff were shown them: each question in the words of the form version
 * answered, every answer as that form labels it (text a client sent never gets here). Undefined
 * when there are none.
 */
function answersResource(context: BundleContext): QuestionnaireResponse | undefined {
  const { content } = context;
  const items: QuestionnaireResponseItem[] = answerItems(content.answers);
  if (items.length === 0) return undefined;
  const form = content.form;
  return {
    resourceType: 'QuestionnaireResponse',
    identifier: context.consultationIdentifier,
    // the canonical of the exact version answered, when the form names itself
    ...(form?.url ? { questionnaire: form.version ? `${form.url}|${form.version}` : form.url } : {}),
    status: 'completed',
    subject: context.patient,
    encounter: context.encounterRef,
    authored: content.consultation.createdAt,
    item: items,
  };
}

function compositionResource(data: FilingData, context: BundleContext): Composition {
  const { outcome, content } = context;
  return {
    resourceType: 'Composition',
    // which frozen version this is, and the hash of its content: what was filed can be checked against it
    extension: [
      {
        url: SUMMARY_VERSION_EXTENSION,
        extension: [
          { url: 'id', valueString: data.version.id },
          { url: 'sha256', valueString: data.version.contentHash },
        ],
      },
    ],
    identifier: context.consultationIdentifier,
    status: 'final',
    type: { coding: [CONSULTATION_REPORT] },
    subject: context.patient,
    encounter: context.encounterRef,
    date: content.closedAt,
    author: [context.clinician],
    title: `${context.reason} (${content.consultation.reference})`,
    custodian: context.practice,
    section: [
      { title: 'Summary', text: { status: 'generated', div: narrative(content.summary) } },
      {
        title: 'Outcome',
        code: { coding: [outcome] },
        text: { status: 'generated', div: narrative(outcome.display) },
      },
      // the thread both ways: what the patient was told and what they said after sending the form
      ...(content.messages.length > 0 ? [messagesSection(content.messages)] : []),
      // the GP reading the summary should see that the patient sent photos, and open them from here
      ...(data.documents.length > 0 ? [documentsSection(data.documents)] : []),
    ],
  };
}

const ukTime = new Intl.DateTimeFormat('en-GB', {
  timeZone: 'Europe/London',
  dateStyle: 'medium',
  timeStyle: 'short',
});

/** Who wrote a message, as the GP record shows it. */
const messageAuthor = (message: SummaryMessage): string =>
  message.author === 'patient'
    ? 'Patient'
    : `${fhirText(message.authorName ?? '', 'Practice staff')} (practice)`;

/** The message thread, oldest first: who wrote each message and when (UK time), then what they wrote. */
function messagesSection(messages: SummaryMessage[]): CompositionSection {
  const paragraphs = messages.map((message) => {
    const heading = `<p><b>${escapeXhtml(messageAuthor(message))}, ${escapeXhtml(ukTime.format(new Date(message.at)))}</b></p>`;
    const body = fhirText(message.body)
      .split(/\r?\n/)
      .map((line) => `<p>${escapeXhtml(line)}</p>`)
      .join('');
    return `${heading}${body}`;
  });
  return {
    title: 'Messages with the patient',
    text: {
      status: 'generated',
      div: `<div xmlns="http://www.w3.org/1999/xhtml">${paragraphs.join('')}</div>`,
    },
  };
}

function documentsSection(documents: FilingDocument[]): CompositionSection {
  const count = `${documents.length} ${documents.length === 1 ? 'file' : 'files'}`;
  return {
    title: 'Sent by the patient',
    text: { status: 'generated', div: narrative(`${count} sent with the request`) },
    entry: documents.map((document) => ({ reference: `urn:uuid:${document.id}` })),
  };
}

function documentResource(document: FilingDocument, context: BundleContext): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    identifier: [{ system: ATTACHMENT_SYSTEM, value: document.id }],
    status: 'current',
    type: { coding: [RECORD_ARTIFACT] },
    subject: context.patient,
    date: document.createdAt.toISOString(),
    custodian: context.practice,
    description: `Sent by the patient with ${context.content.consultation.reference}`,
    content: [
      {
        attachment: {
          contentType: document.contentType,
          data: document.data.toString('base64'),
          size: document.data.length,
          creation: document.createdAt.toISOString(),
        },
      },
    ],
    context: { encounter: [context.encounterRef] },
  };
}

/** A conditional create: the GP system makes it only if nothing carries its identifier yet. */
function entry(fullUrl: string, resource: Resource & { identifier?: unknown }): BundleEntry {
  const identifiers = Array.isArray(resource.identifier) ? resource.identifier : [resource.identifier];
  const own = (identifiers as { system?: string; value?: string }[])[0];
  if (!own?.system || !own.value) throw new Error(`${resource.resourceType} has no identifier to file it by`);
  return {
    fullUrl,
    resource,
    request: {
      method: 'POST',
      url: resource.resourceType,
      ifNoneExist: `identifier=${encodeURIComponent(own.system)}|${encodeURIComponent(own.value)}`,
    },
  };
}

/**
 * A urn:uuid for an entry that is stable for the consultation, so the same consultation always
 * produces the same bundle (tests pin it; servers see identical retries).
 */
function derivedUuid(consultationId: string, role: string): string {
  // the consultation id with its last group swapped: still a UUID, unique per role
  const suffix = Buffer.from(role).toString('hex').padEnd(12, '0').slice(0, 12);
  return `${consultationId.slice(0, 24)}${suffix}`;
}
