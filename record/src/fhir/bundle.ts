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
  QuestionnaireResponseItemAnswer,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import {
  ATTACHMENT_SYSTEM,
  CONSULTATION_SYSTEM,
  NHS_NUMBER_SYSTEM,
  ODS_CODE_SYSTEM,
  SNOMED_SYSTEM,
  STAFF_SYSTEM,
} from './identifiers';

/** Everything one write-back files, as loaded from PostgreSQL (and S3, for documents). */
export interface FilingData {
  consultationId: string;
  reference: string;
  kind: 'medical' | 'admin';
  mode: 'online' | 'video';
  practice: { odsCode: string; name: string };
  /** Checked before a bundle is built: a summary is only ever filed against a valid NHS number. */
  nhsNumber: string;
  createdAt: Date;
  closedAt: Date;
  closedBy: { id: string; name: string };
  outcome: { code: string; display: string };
  summary: string;
  formTitle: string | null;
  answers: { questionnaire?: string; item: unknown[] } | null;
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

const escapeXhtml = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => `&${{ '&': 'amp', '<': 'lt', '>': 'gt', '"': 'quot', "'": '#39' }[c]};`);

/** Narrative for the GP record: the summary as the clinician wrote it, line breaks kept. */
const narrative = (text: string): string =>
  `<div xmlns="http://www.w3.org/1999/xhtml">${fhirText(text)
    .split(/\r?\n/)
    .map((line) => `<p>${escapeXhtml(line)}</p>`)
    .join('')}</div>`;

const answerValueKeys = [
  'valueBoolean',
  'valueDecimal',
  'valueInteger',
  'valueDate',
  'valueDateTime',
  'valueTime',
  'valueString',
  'valueUri',
  'valueCoding',
  'valueQuantity',
] as const;

/**
 * The form's answers as stored carry only what FHIR defines for a response item, so nothing a
 * browser added can make the GP system refuse the bundle; attachments go as DocumentReferences.
 */
function cleanItems(items: unknown[]): QuestionnaireResponseItem[] {
  const cleaned: QuestionnaireResponseItem[] = [];
  for (const raw of items) {
    if (typeof raw !== 'object' || raw === null) continue;
    const item = raw as Record<string, unknown>;
    if (typeof item.linkId !== 'string' || item.linkId.trim() === '') continue;
    const out: QuestionnaireResponseItem = { linkId: item.linkId };
    if (typeof item.text === 'string' && item.text.trim() !== '') out.text = fhirText(item.text);
    if (Array.isArray(item.answer)) {
      const answers: QuestionnaireResponseItemAnswer[] = [];
      for (const rawAnswer of item.answer as unknown[]) {
        if (typeof rawAnswer !== 'object' || rawAnswer === null) continue;
        const answer = rawAnswer as Record<string, unknown>;
        const key = answerValueKeys.find((k) => answer[k] !== undefined && answer[k] !== null);
        if (!key) continue;
        const value = answer[key];
        if (typeof value === 'string' && value.trim() === '') continue;
        const next = {
          [key]: typeof value === 'string' ? fhirText(value) : value,
        } as QuestionnaireResponseItemAnswer;
        if (Array.isArray(answer.item)) next.item = cleanItems(answer.item as unknown[]);
        answers.push(next);
      }
      if (answers.length > 0) out.answer = answers;
    }
    if (Array.isArray(item.item)) {
      const children = cleanItems(item.item as unknown[]);
      if (children.length > 0) out.item = children;
    }
    if (out.answer || out.item) cleaned.push(out);
  }
  return cleaned;
}

/** What every resource of one consultation's bundle refers to. */
interface BundleContext {
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
 * One FHIR R4 `transaction` Bundle per consultation: the Encounter, the patient's answers, the
 * clinician's summary as a Composition, and a DocumentReference per file the patient sent.
 * The patient is referenced by NHS number and the practice by ODS code (logical references: the
 * GP system resolves them against its own records). Every entry is a create conditional on our
 * own identifier, so sending the same bundle twice files it once.
 */
export function buildWriteBackBundle(data: FilingData): Bundle {
  const context = bundleContext(data);
  const answers = data.answers ? answersResource(data, data.answers, context) : undefined;
  const entries: BundleEntry[] = [
    entry(`urn:uuid:${data.consultationId}`, encounterResource(data, context)),
    ...(answers ? [entry(`urn:uuid:${derivedUuid(data.consultationId, 'qr')}`, answers)] : []),
    entry(`urn:uuid:${derivedUuid(data.consultationId, 'composition')}`, compositionResource(data, context)),
    ...data.documents.map((document) =>
      entry(`urn:uuid:${document.id}`, documentResource(data, document, context)),
    ),
  ];
  return { resourceType: 'Bundle', type: 'transaction', entry: entries };
}

function bundleContext(data: FilingData): BundleContext {
  return {
    patient: { type: 'Patient', identifier: { system: NHS_NUMBER_SYSTEM, value: data.nhsNumber } },
    practice: {
      type: 'Organization',
      identifier: { system: ODS_CODE_SYSTEM, value: data.practice.odsCode },
      display: fhirText(data.practice.name, data.practice.odsCode),
    },
    clinician: {
      type: 'Practitioner',
      identifier: { system: STAFF_SYSTEM, value: data.closedBy.id },
      display: fhirText(data.closedBy.name, 'Practice clinician'),
    },
    consultationIdentifier: { system: CONSULTATION_SYSTEM, value: data.consultationId },
    encounterRef: { reference: `urn:uuid:${data.consultationId}` },
    outcome: { system: SNOMED_SYSTEM, code: data.outcome.code, display: fhirText(data.outcome.display) },
    reason: `${data.mode === 'video' ? 'Video' : 'Online'} consultation${data.formTitle ? `: ${fhirText(data.formTitle)}` : ''}`,
  };
}

function encounterResource(data: FilingData, context: BundleContext): Encounter {
  return {
    resourceType: 'Encounter',
    identifier: [
      context.consultationIdentifier,
      { system: `${CONSULTATION_SYSTEM}-reference`, value: data.reference },
    ],
    status: 'finished',
    class: VIRTUAL,
    type: [{ coding: [context.outcome], text: context.outcome.display }],
    subject: context.patient,
    participant: [{ individual: context.clinician }],
    period: { start: data.createdAt.toISOString(), end: data.closedAt.toISOString() },
    reasonCode: [{ text: context.reason }],
    serviceProvider: context.practice,
  };
}

/** The patient's answers; undefined when nothing FHIR can carry is left of them. */
function answersResource(
  data: FilingData,
  answers: NonNullable<FilingData['answers']>,
  context: BundleContext,
): QuestionnaireResponse | undefined {
  const items = cleanItems(answers.item);
  if (items.length === 0) return undefined;
  return {
    resourceType: 'QuestionnaireResponse',
    identifier: context.consultationIdentifier,
    ...(answers.questionnaire ? { questionnaire: answers.questionnaire } : {}),
    status: 'completed',
    subject: context.patient,
    encounter: context.encounterRef,
    authored: data.createdAt.toISOString(),
    item: items,
  };
}

function compositionResource(data: FilingData, context: BundleContext): Composition {
  const { outcome } = context;
  return {
    resourceType: 'Composition',
    identifier: context.consultationIdentifier,
    status: 'final',
    type: { coding: [CONSULTATION_REPORT] },
    subject: context.patient,
    encounter: context.encounterRef,
    date: data.closedAt.toISOString(),
    author: [context.clinician],
    title: `${context.reason} (${data.reference})`,
    custodian: context.practice,
    section: [
      { title: 'Summary', text: { status: 'generated', div: narrative(data.summary) } },
      {
        title: 'Outcome',
        code: { coding: [outcome] },
        text: { status: 'generated', div: narrative(outcome.display) },
      },
      // the GP reading the summary should see that the patient sent photos, and open them from here
      ...(data.documents.length > 0 ? [documentsSection(data.documents)] : []),
    ],
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

function documentResource(
  data: FilingData,
  document: FilingDocument,
  context: BundleContext,
): DocumentReference {
  return {
    resourceType: 'DocumentReference',
    identifier: [{ system: ATTACHMENT_SYSTEM, value: document.id }],
    status: 'current',
    type: { coding: [RECORD_ARTIFACT] },
    subject: context.patient,
    date: document.createdAt.toISOString(),
    custodian: context.practice,
    description: `Sent by the patient with ${data.reference}`,
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
