// Compares what the patient typed with what PDS holds for their NHS number.
import type { DetailsSearch, TraceResult, TracedStatus } from './trace-result';

export const ODS_ORGANIZATION_SYSTEM = 'https://fhir.nhs.uk/Id/ods-organization-code';
const CONFIDENTIALITY_SYSTEM = 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality';

/** A request's patient as traced: what they typed, and the practice they asked. */
export interface TraceSubject {
  nhsNumber: string;
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD */
  birthDate: string;
  practiceOdsCode: string;
}

/** The parts of a PDS Patient the trace reads. */
export interface PdsPatientResource {
  resourceType: 'Patient';
  id: string;
  meta?: { versionId?: string; security?: { system?: string; code?: string }[] };
  name?: { use?: string; family?: string; given?: string[]; period?: { end?: string } }[];
  birthDate?: string;
  deceasedDateTime?: string;
  generalPractitioner?: { identifier?: { system?: string; value?: string; period?: { end?: string } } }[];
}

export type PdsRead = { kind: 'found'; patient: PdsPatientResource } | { kind: 'not_found' };

/** The exact-match search's single unique match, or none. */
export type PdsSearchMatch = PdsPatientResource | null;

/** Case, accents, spaces and punctuation aside: "O'Brien" is "OBRIEN", "Brontë" is "bronte". */
export const foldName = (text: string): string =>
  text
    .normalize('NFD')
    .replace(/\p{M}/gu, '')
    .replace(/[^\p{L}\p{N}]/gu, '')
    .toLowerCase();

export const isRestricted = (patient: PdsPatientResource): boolean =>
  (patient.meta?.security ?? []).some(
    (label) =>
      label.code === 'R' &&
      (label.system === undefined ||
        label.system === CONFIDENTIALITY_SYSTEM ||
        label.system.includes('security-labels')),
  );

/** The current registered practice's ODS code, if PDS gives one. */
export function registeredOdsCode(patient: PdsPatientResource): string | null {
  const current = (patient.generalPractitioner ?? []).find(
    (gp) =>
      gp.identifier?.system === ODS_ORGANIZATION_SYSTEM && gp.identifier.value && !gp.identifier.period?.end,
  );
  return current?.identifier?.value?.toUpperCase() ?? null;
}

/** Whether the surname typed is the usual name's (or any current name's) in PDS. */
function surnameAgrees(patient: PdsPatientResource, familyName: string): boolean {
  const typed = foldName(familyName);
  return (patient.name ?? []).some(
    (name) => !name.period?.end && name.family !== undefined && foldName(name.family) === typed,
  );
}

/**
 * The trace's status from PDS's read of the number: verified only when it is the same record (not a
 * superseding one), not restricted, alive, with the date of birth and surname typed, registered at
 * the practice asked. `search` is what the exact-match search found for the typed details, made
 * only when the number did not check out.
 */
export function classifyTrace(
  subject: TraceSubject,
  read: PdsRead,
  detailsSearch: DetailsSearch,
  tracedAt: Date,
): TraceResult {
  const base = { nhsNumber: subject.nhsNumber, tracedAt: tracedAt.toISOString(), detailsSearch };
  if (read.kind === 'not_found') {
    return {
      ...base,
      status: 'not_found',
      registeredOdsCode: null,
      restricted: false,
      superseded: false,
      deceased: false,
      disagreements: [],
    };
  }
  const { patient } = read;
  const restricted = isRestricted(patient);
  const superseded = patient.id !== subject.nhsNumber;
  const deceased = Boolean(patient.deceasedDateTime);
  const disagreements: TraceResult['disagreements'] = [];
  if (patient.birthDate !== subject.birthDate) disagreements.push('birthDate');
  if (!surnameAgrees(patient, subject.familyName)) disagreements.push('familyName');
  const ods = restricted ? null : registeredOdsCode(patient);
  let status: TracedStatus;
  if (superseded || deceased || disagreements.length > 0) status = 'details_disagree';
  else if (restricted) status = 'restricted';
  else if (ods !== subject.practiceOdsCode.toUpperCase()) status = 'registered_elsewhere';
  else status = 'verified';
  return { ...base, status, registeredOdsCode: ods, restricted, superseded, deceased, disagreements };
}

/** Whether the exact-match search is worth making: the number did not check out as this patient's. */
export const needsDetailsSearch = (result: TraceResult): boolean =>
  result.status === 'details_disagree' ||
  result.status === 'not_found' ||
  result.status === 'registered_elsewhere';

/** What the search's single match (if any) says about the typed details. */
export function detailsSearchOutcome(subject: TraceSubject, match: PdsSearchMatch): DetailsSearch {
  if (!match) return 'none';
  if (match.id === subject.nhsNumber) return 'not_searched'; // the same record: nothing to add
  const ods = isRestricted(match) ? null : registeredOdsCode(match);
  return ods === subject.practiceOdsCode.toUpperCase()
    ? 'different_number_here'
    : 'different_number_elsewhere';
}
