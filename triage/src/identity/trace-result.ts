// What a trace against PDS found, as stored in `patient_trace.result`, and the words staff read.
// Only what staff need to judge the match: never the details PDS holds beyond the registered
// practice's ODS code, and never another patient's NHS number.
import type { IdentityStatus } from '@gpc/contracts';

/** The statuses a finished trace can give (`trace_unavailable` is a trace still owed). */
export type TracedStatus = Extract<
  IdentityStatus,
  'verified' | 'registered_elsewhere' | 'details_disagree' | 'not_found' | 'restricted'
>;

/**
 * What PDS's exact-match search (by family name, given name and date of birth) said about the
 * details the patient typed, when the number itself did not check out:
 * - `different_number_here`: one patient with these details, under another NHS number, registered here
 * - `different_number_elsewhere`: one, under another number, registered elsewhere (or restricted)
 * - `none`: no single patient with these details (none, or more than one)
 * - `not_searched`: the number checked out, or the search could not be made
 */
export type DetailsSearch = 'different_number_here' | 'different_number_elsewhere' | 'none' | 'not_searched';

export interface TraceResult {
  status: TracedStatus;
  /** The NHS number traced: a result holds only for the request while it keeps this number. */
  nhsNumber: string;
  tracedAt: string;
  /** The registered practice's ODS code; null when PDS gives none (restricted, or not registered). */
  registeredOdsCode: string | null;
  restricted: boolean;
  /** PDS answered with another record: this number was replaced (superseded). */
  superseded: boolean;
  deceased: boolean;
  /** Which of what the patient typed PDS disagrees with. */
  disagreements: ('birthDate' | 'familyName')[];
  detailsSearch: DetailsSearch;
}

/** The request's identity in words for staff: why it is (or is not) ready to be filed. */
export function describeIdentity(
  status: IdentityStatus,
  result: TraceResult | null,
  trace: { attempts: number; lastError: string | null } | null,
): string {
  switch (status) {
    case 'tracing':
      return 'Not traced yet: waiting for an answer from the national demographics service (PDS).';
    case 'trace_unavailable':
      return `PDS could not be reached (${trace?.attempts ?? 0} attempts so far); the trace will be tried again.`;
    case 'no_nhs_number':
      return "No NHS number: record the patient's NHS number, and it will be traced against PDS.";
    case 'nhs_login_p9':
      return 'Signed in with NHS login at P9: NHS login verified this identity.';
    case 'verified':
      return 'PDS agrees: the NHS number, date of birth and surname match, and the patient is registered at this practice.';
    case 'restricted':
      return 'Restricted record: PDS withholds where this patient is registered. Check identity by another route before confirming.';
    case 'registered_elsewhere':
      return [
        result?.registeredOdsCode
          ? `PDS says this NHS number belongs to a patient registered at another practice (${result.registeredOdsCode}).`
          : 'PDS has no registered practice for this NHS number.',
        searchSays(result),
      ]
        .filter(Boolean)
        .join(' ');
    case 'details_disagree':
      return [...disagreementWords(result), searchSays(result)].filter(Boolean).join(' ');
    case 'not_found':
      return ['PDS has no patient with this NHS number.', searchSays(result)].filter(Boolean).join(' ');
  }
}

function disagreementWords(result: TraceResult | null): string[] {
  if (!result) return ['The details do not match PDS.'];
  const words: string[] = [];
  if (result.superseded)
    words.push(
      "PDS has replaced this NHS number with another (a superseded record): check the patient's current number.",
    );
  if (result.disagreements.includes('birthDate')) words.push('The date of birth does not match PDS.');
  if (result.disagreements.includes('familyName')) words.push('The surname does not match PDS.');
  if (result.deceased) words.push('PDS records this patient as deceased.');
  return words.length > 0 ? words : ['The details do not match PDS.'];
}

/**
 * The search's answer in words. The other patient's NHS number is never shown (nor stored): the
 * search is an application-restricted one, made by the service and not by a member of staff with
 * a legitimate relationship to that record; the details a patient typed are not proof that that
 * record is theirs (two people share a name and date of birth more often than one thinks: PDS then
 * finds no single match, but one of them may be missing from it); and a number on screen invites
 * filing against it without the trace and confirmation that number would need. Staff look the
 * patient up in their own clinical system, then record the number here, which traces it afresh.
 */
function searchSays(result: TraceResult | null): string {
  switch (result?.detailsSearch) {
    case 'different_number_here':
      return 'A patient with these details is registered at this practice under a different NHS number: look them up in your clinical system.';
    case 'different_number_elsewhere':
      return 'A patient with these details has a different NHS number, registered elsewhere.';
    case 'none':
      return 'PDS finds no single patient with these details either.';
    case 'not_searched':
    case undefined:
      return '';
  }
}
