// The checks the STU3 JSON Schema cannot make: the ITK3 message and handling rules, GP Connect Send
// Document's online consultation rules, CareConnect's patient rules, references, and codes. Each
// problem is "<kind>: <where> <what>", naming paths and rules, never a patient's details.
import { isValidNhsNumber } from '@gpc/contracts';
import {
  MESSAGE_EVENT_SYSTEM,
  MESSAGE_EVENTS,
  MESSAGE_HANDLING_EXTENSION,
  NHS_NUMBER_SYSTEM,
  NHS_NUMBER_VERIFICATION,
  NHS_NUMBER_VERIFICATION_EXTENSION,
  NHS_NUMBER_VERIFICATION_SYSTEM,
  ODS_CODE_SYSTEM,
  ONLINE_CONSULTATION_ENCOUNTER_TYPE,
  ONLINE_CONSULTATION_LOCAL_EXTENSION,
  ONLINE_CONSULTATION_REPORT_TITLE,
  ONLINE_CONSULTATION_REPORT_TYPE,
  PROFILE,
  RECIPIENT_TYPE_SYSTEM,
  RECIPIENT_TYPES,
  RESPONSE_CODE_SYSTEM,
  SEND_DOCUMENT_MESSAGE_DEFINITION,
  SNOMED,
} from './codes';
import { UUID_PATTERN } from './ids';
import { ITK_RESPONSE_CODES } from './response-codes';
import { isSnomedConceptId } from './snomed';

/** A problem and the ITK3 response code a receiving GP system would refuse it with. */
export interface RuleProblem {
  text: string;
  itkCode: '10002' | '10003' | '10008' | '10010' | '20009';
}

type Json = Record<string, unknown>;
const isObject = (value: unknown): value is Json =>
  Boolean(value) && typeof value === 'object' && !Array.isArray(value);
const list = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
const hasProfile = (resource: Json, profile: string): boolean =>
  list((resource.meta as Json | undefined)?.profile).includes(profile);

/** A bundle's entries by fullUrl. */
function entriesOf(bundle: Json): Map<string, Json> {
  const entries = new Map<string, Json>();
  for (const entry of list(bundle.entry)) {
    if (isObject(entry) && typeof entry.fullUrl === 'string' && isObject(entry.resource)) {
      entries.set(entry.fullUrl, entry.resource);
    }
  }
  return entries;
}

const referenced = (entries: Map<string, Json>, reference: unknown): Json | undefined =>
  isObject(reference) && typeof reference.reference === 'string'
    ? entries.get(reference.reference)
    : undefined;

class Problems {
  readonly found: RuleProblem[] = [];
  add(kind: string, text: string, itkCode: RuleProblem['itkCode'] = '20009'): void {
    this.found.push({ text: `${kind}: ${text}`, itkCode });
  }
}

/** The message's own rules: ITK-Message-Bundle-1, ITK-MessageHeader-2 with Send Document's handling keys. */
export function messageRules(bundle: Json): RuleProblem[] {
  const problems = new Problems();
  const header = (list(bundle.entry)[0] as Json | undefined)?.resource as Json | undefined;
  if (bundle.type !== 'message') problems.add('itk-message', "Bundle.type is not 'message'", '10008');
  if (!hasProfile(bundle, PROFILE.messageBundle))
    problems.add('itk-message', `Bundle.meta.profile lacks ${PROFILE.messageBundle}`, '10008');
  if (!isObject(header) || header.resourceType !== 'MessageHeader') {
    problems.add('itk-message', 'Bundle.entry[0] is not a MessageHeader', '10008');
    return problems.found;
  }
  const entries = entriesOf(bundle);
  if (!hasProfile(header, PROFILE.messageHeader))
    problems.add('itk-message', `MessageHeader.meta.profile lacks ${PROFILE.messageHeader}`, '10008');
  if (typeof header.id !== 'string' || !UUID_PATTERN.test(header.id))
    problems.add('itk-message', 'MessageHeader.id is not a UUID', '10008');
  const event = header.event as Json | undefined;
  if (event?.system !== MESSAGE_EVENT_SYSTEM || event.code !== 'ITK007C') {
    problems.add(
      'itk-message',
      `MessageHeader.event is ${String(event?.system)}#${String(event?.code)}, not ${MESSAGE_EVENT_SYSTEM}#ITK007C (${MESSAGE_EVENTS.ITK007C})`,
      '10008',
    );
  }
  handlingRules(header, problems);
  const sender = referenced(entries, header.sender);
  if (!sender || sender.resourceType !== 'Organization' || !odsCodeOf(sender)) {
    problems.add(
      'itk-message',
      'MessageHeader.sender does not reference an Organization in the message with an ODS code',
      '10008',
    );
  }
  if (typeof (header.source as Json | undefined)?.endpoint !== 'string')
    problems.add('itk-message', 'MessageHeader.source.endpoint is missing', '10008');
  for (const absent of ['destination', 'receiver']) {
    if (header[absent] !== undefined)
      problems.add(
        'itk-message',
        `MessageHeader.${absent} is present: Send Document leaves routing to MESH`,
        '10008',
      );
  }
  const focus = list(header.focus);
  const document = focus.length === 1 ? referenced(entries, focus[0]) : undefined;
  if (!document || document.resourceType !== 'Bundle') {
    problems.add(
      'itk-message',
      'MessageHeader.focus is not one reference to a Bundle in the message',
      '10008',
    );
  } else {
    problems.found.push(...documentRules(document));
  }
  return problems.found;
}

function handlingRules(header: Json, problems: Problems): void {
  const handling = list(header.extension).find(
    (extension) => isObject(extension) && extension.url === MESSAGE_HANDLING_EXTENSION,
  ) as Json | undefined;
  if (!handling) {
    problems.add('itk-message', `MessageHeader has no ${MESSAGE_HANDLING_EXTENSION} extension`, '10008');
    return;
  }
  const key = (name: string): Json | undefined =>
    list(handling.extension).find((extension) => isObject(extension) && extension.url === name) as
      Json | undefined;
  const known = new Set([
    'BusAckRequested',
    'InfAckRequested',
    'RecipientType',
    'MessageDefinition',
    'SenderReference',
    'LocalExtension',
  ]);
  for (const extension of list(handling.extension)) {
    const url = isObject(extension) ? String(extension.url) : '?';
    if (!known.has(url))
      problems.add('itk-message', `handling key '${url}' is not one Send Document uses`, '10008');
  }
  if (key('InfAckRequested')?.valueBoolean !== true)
    problems.add('itk-message', 'handling key InfAckRequested is not true', '10002');
  if (key('BusAckRequested')?.valueBoolean !== true)
    problems.add('itk-message', 'handling key BusAckRequested is not true', '10003');
  const recipient = key('RecipientType')?.valueCoding as Json | undefined;
  if (recipient?.system !== RECIPIENT_TYPE_SYSTEM || recipient.code !== 'FA') {
    problems.add(
      'itk-message',
      `handling key RecipientType is not ${RECIPIENT_TYPE_SYSTEM}#FA (${RECIPIENT_TYPES.FA})`,
      '10010',
    );
  }
  if (
    (key('MessageDefinition')?.valueReference as Json | undefined)?.reference !==
    SEND_DOCUMENT_MESSAGE_DEFINITION
  ) {
    problems.add(
      'itk-message',
      `handling key MessageDefinition is not ${SEND_DOCUMENT_MESSAGE_DEFINITION}`,
      '10008',
    );
  }
  const senderReference = key('SenderReference')?.valueString;
  if (typeof senderReference !== 'string' || senderReference.trim() === '') {
    problems.add('itk-message', 'handling key SenderReference is missing', '10008');
  }
  if (key('LocalExtension')?.valueString !== ONLINE_CONSULTATION_LOCAL_EXTENSION) {
    problems.add(
      'itk-message',
      `handling key LocalExtension is not ${ONLINE_CONSULTATION_LOCAL_EXTENSION}`,
      '10008',
    );
  }
}

const odsCodeOf = (organization: Json): string | undefined =>
  list(organization.identifier)
    .filter(isObject)
    .find(
      (identifier) =>
        identifier.system === ODS_CODE_SYSTEM &&
        typeof identifier.value === 'string' &&
        /^[A-Z0-9]{3,10}$/.test(identifier.value),
    )?.value as string | undefined;

/** ITK-Document-Bundle-1 with a CareConnect Composition of GP Connect Send Document's online consultation report. */
export function documentRules(document: Json): RuleProblem[] {
  const problems = new Problems();
  const entries = entriesOf(document);
  if (document.type !== 'document')
    problems.add('itk-document', "the document Bundle's type is not 'document'");
  if (!hasProfile(document, PROFILE.documentBundle))
    problems.add('itk-document', `the document Bundle's meta.profile lacks ${PROFILE.documentBundle}`);
  const identifier = (document.identifier as Json | undefined)?.value;
  if (typeof identifier !== 'string' || !UUID_PATTERN.test(identifier))
    problems.add('itk-document', "the document Bundle's identifier is not a UUID");
  for (const [index, entry] of list(document.entry).entries()) {
    const resource = isObject(entry) ? entry.resource : undefined;
    const id = isObject(resource) ? resource.id : undefined;
    if (!isObject(entry) || entry.fullUrl !== `urn:uuid:${String(id)}`) {
      problems.add('reference', `document entry[${index}].fullUrl is not urn:uuid: and its resource's id`);
    }
  }
  const composition = (list(document.entry)[0] as Json | undefined)?.resource as Json | undefined;
  if (!isObject(composition) || composition.resourceType !== 'Composition') {
    problems.add('itk-document', "the document Bundle's first entry is not a Composition");
    return problems.found;
  }
  compositionRules(composition, entries, problems);
  references(document, entries, problems);
  return problems.found;
}

function compositionRules(composition: Json, entries: Map<string, Json>, problems: Problems): void {
  if (!hasProfile(composition, PROFILE.composition))
    problems.add('itk-document', `Composition.meta.profile lacks ${PROFILE.composition}`);
  const type = list((composition.type as Json | undefined)?.coding).filter(isObject);
  if (
    !type.some((coding) => coding.system === SNOMED && coding.code === ONLINE_CONSULTATION_REPORT_TYPE.code)
  ) {
    problems.add(
      'itk-document',
      `Composition.type is not SNOMED CT ${ONLINE_CONSULTATION_REPORT_TYPE.code} (${ONLINE_CONSULTATION_REPORT_TYPE.display})`,
    );
  }
  if (composition.title !== ONLINE_CONSULTATION_REPORT_TITLE)
    problems.add('itk-document', `Composition.title is not '${ONLINE_CONSULTATION_REPORT_TITLE}'`);
  if (composition.status !== 'final') problems.add('itk-document', "Composition.status is not 'final'");
  if (typeof composition.date !== 'string') problems.add('itk-document', 'Composition.date is missing');
  const patient = referenced(entries, composition.subject);
  if (!patient || patient.resourceType !== 'Patient')
    problems.add('itk-document', 'Composition.subject does not reference a Patient in the document');
  else patientRules(patient, problems);
  const author = list(composition.author).map((reference) => referenced(entries, reference));
  if (
    author.length === 0 ||
    author.some(
      (resource) =>
        !resource ||
        !['Practitioner', 'PractitionerRole', 'Patient', 'RelatedPerson', 'Device', 'Organization'].includes(
          String(resource.resourceType),
        ),
    )
  ) {
    problems.add('itk-document', 'Composition.author does not reference its author in the document');
  }
  const custodian = referenced(entries, composition.custodian);
  if (!custodian || custodian.resourceType !== 'Organization' || !odsCodeOf(custodian)) {
    problems.add(
      'itk-document',
      'Composition.custodian does not reference the sending Organization with an ODS code',
    );
  }
  const encounter = referenced(entries, composition.encounter);
  if (
    encounter &&
    !list(encounter.type).some((type) =>
      list((type as Json).coding).some(
        (coding) =>
          (coding as Json).system === SNOMED &&
          (coding as Json).code === ONLINE_CONSULTATION_ENCOUNTER_TYPE.code,
      ),
    )
  ) {
    problems.add(
      'itk-document',
      `Encounter.type is not SNOMED CT ${ONLINE_CONSULTATION_ENCOUNTER_TYPE.code} (${ONLINE_CONSULTATION_ENCOUNTER_TYPE.display})`,
    );
  }
  for (const relation of list(composition.relatesTo).filter(isObject)) {
    const target = (relation.targetIdentifier as Json | undefined)?.value;
    if (relation.code !== 'replaces' || typeof target !== 'string' || !UUID_PATTERN.test(target)) {
      problems.add(
        'itk-document',
        "Composition.relatesTo is not 'replaces' with the earlier document's UUID identifier",
      );
    }
  }
  attachmentRules(composition, entries, problems);
}

/** The first section's first entry is the primary attachment: the PDF report, ITK-Attachment-Binary-1. */
function attachmentRules(composition: Json, entries: Map<string, Json>, problems: Problems): void {
  const first = list(composition.section)[0] as Json | undefined;
  const binary = referenced(entries, list(first?.entry)[0]);
  if (!binary || binary.resourceType !== 'Binary') {
    problems.add(
      'attachment',
      "the Composition's first section does not reference the PDF report (a Binary in the document)",
    );
    return;
  }
  if (!hasProfile(binary, PROFILE.attachmentBinary))
    problems.add('attachment', `the report Binary's meta.profile lacks ${PROFILE.attachmentBinary}`);
  if (binary.contentType !== 'application/pdf')
    problems.add('attachment', "the report Binary's contentType is not application/pdf");
  const content = typeof binary.content === 'string' ? binary.content : '';
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(content) || content.length % 4 !== 0) {
    problems.add('attachment', "the report Binary's content is not base64");
  } else if (!Buffer.from(content.slice(0, 12), 'base64').subarray(0, 5).equals(Buffer.from('%PDF-'))) {
    problems.add('attachment', "the report Binary's content is not a PDF");
  }
}

/** CareConnect-Patient-1 and GP Connect's rule: a verified NHS number, a name and a date of birth. */
function patientRules(patient: Json, problems: Problems): void {
  if (!hasProfile(patient, PROFILE.patient))
    problems.add('patient', `Patient.meta.profile lacks ${PROFILE.patient}`);
  const nhsNumber = list(patient.identifier)
    .filter(isObject)
    .find((identifier) => identifier.system === NHS_NUMBER_SYSTEM);
  if (!nhsNumber || typeof nhsNumber.value !== 'string' || nhsNumber.value === '') {
    problems.add(
      'patient',
      'Patient has no NHS number (an identifier with system https://fhir.nhs.uk/Id/nhs-number)',
    );
  } else {
    if (!isValidNhsNumber(nhsNumber.value) || !/^\d{10}$/.test(nhsNumber.value))
      problems.add('patient', "Patient's NHS number is not a valid NHS number (10 digits, modulus 11)");
    const status = list(nhsNumber.extension)
      .filter(isObject)
      .find((extension) => extension.url === NHS_NUMBER_VERIFICATION_EXTENSION)?.valueCodeableConcept as
      Json | undefined;
    const coding = list(status?.coding)
      .filter(isObject)
      .find((item) => item.system === NHS_NUMBER_VERIFICATION_SYSTEM);
    if (!coding) problems.add('patient', "Patient's NHS number has no verification status");
    else if (coding.code !== '01') {
      problems.add(
        'patient',
        `Patient's NHS number is not verified (status ${String(coding.code)}, not 01 ${NHS_NUMBER_VERIFICATION['01']})`,
      );
    }
  }
  const official = list(patient.name).filter(isObject)[0];
  if (!official || typeof official.family !== 'string' || official.family === '')
    problems.add('patient', 'Patient has no family name');
  if (typeof patient.birthDate !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(patient.birthDate))
    problems.add('patient', 'Patient has no full date of birth');
}

/** Every `reference` inside the document resolves to one of its entries (urn:uuid references only). */
function references(document: Json, entries: Map<string, Json>, problems: Problems): void {
  const walk = (value: unknown, path: string): void => {
    if (Array.isArray(value)) return value.forEach((item, index) => walk(item, `${path}[${index}]`));
    if (!isObject(value)) return;
    for (const [key, child] of Object.entries(value)) {
      if (
        key === 'reference' &&
        typeof child === 'string' &&
        child.startsWith('urn:uuid:') &&
        !entries.has(child)
      ) {
        problems.add('reference', `${path}.reference is not an entry of the document`);
      }
      walk(child, `${path}.${key}`);
    }
  };
  list(document.entry).forEach((entry, index) => walk((entry as Json).resource, `document entry[${index}]`));
}

/** Codes the schema cannot check: SNOMED CT ids (check digit) and the ITK and CareConnect code systems' codes. */
export function codeRules(value: unknown, path: string, problems: RuleProblem[] = []): RuleProblem[] {
  if (Array.isArray(value)) {
    value.forEach((item, index) => codeRules(item, `${path}[${index}]`, problems));
    return problems;
  }
  if (!isObject(value)) return problems;
  if (typeof value.system === 'string' && 'code' in value) {
    const known = CODE_SYSTEMS[value.system];
    const code = value.code;
    if (typeof code !== 'string' || code === '') {
      problems.push({ text: `code: ${path} has a system but no code`, itkCode: '20009' });
    } else if (value.system === SNOMED && !isSnomedConceptId(code)) {
      problems.push({
        text: `code: ${path}.code '${code}' is not a SNOMED CT concept id (check digit or partition)`,
        itkCode: '20009',
      });
    } else if (known && !known.has(code)) {
      problems.push({ text: `code: ${path}.code '${code}' is not in ${value.system}`, itkCode: '20009' });
    }
  }
  for (const [key, child] of Object.entries(value)) {
    // a Binary's content is data, not elements
    if (key !== 'content' || typeof child !== 'string') codeRules(child, `${path}.${key}`, problems);
  }
  return problems;
}

const CODE_SYSTEMS: Record<string, Set<string>> = {
  [MESSAGE_EVENT_SYSTEM]: new Set(Object.keys(MESSAGE_EVENTS)),
  [RECIPIENT_TYPE_SYSTEM]: new Set(Object.keys(RECIPIENT_TYPES)),
  [NHS_NUMBER_VERIFICATION_SYSTEM]: new Set(Object.keys(NHS_NUMBER_VERIFICATION)),
  [RESPONSE_CODE_SYSTEM]: new Set(Object.keys(ITK_RESPONSE_CODES)),
};
