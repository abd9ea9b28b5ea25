import type { IdentityStatus, IdentityView } from '@gpc/contracts';
import { addSummaryRow, byId } from '../shared/nhsuk';
import { when } from './words';

/** A trace's status in a few words; the reason says the rest. */
const statusWords: Record<IdentityStatus, string> = {
  tracing: 'Not traced yet',
  verified: 'Verified by PDS',
  registered_elsewhere: 'Registered elsewhere',
  details_disagree: 'Details do not match PDS',
  not_found: 'Not found in PDS',
  restricted: 'Restricted record',
  trace_unavailable: 'PDS not reachable',
  no_nhs_number: 'No NHS number',
  nhs_login_p9: 'NHS login (P9)',
};

/**
 * The identity panel: who the patient is as far as PDS (or NHS login) can tell, in words, and
 * whether a member of staff confirmed it. "Confirm patient" shows only when PDS verified the
 * request's number and no one has confirmed it yet, and only to those who may (clinicians, admins).
 */
export function renderIdentity(identity: IdentityView, role: string | undefined): void {
  const list = byId('identity-list');
  list.replaceChildren();
  addSummaryRow(list, 'Identity', identity.confirmed ? 'Confirmed' : statusWords[identity.status]);
  addSummaryRow(list, 'Reason', identity.reason);
  addSummaryRow(
    list,
    'Details from',
    identity.source === 'nhs_login'
      ? `NHS login${identity.proofingLevel ? ` (${identity.proofingLevel})` : ''}`
      : 'Typed into the form',
  );
  if (identity.tracedAt) addSummaryRow(list, 'Traced', when(identity.tracedAt));
  if (identity.confirmed && identity.confirmedAt) {
    const by =
      identity.confirmedBy?.name ?? (identity.status === 'nhs_login_p9' ? 'NHS login' : 'a member of staff');
    addSummaryRow(list, 'Confirmed', `By ${by} on ${when(identity.confirmedAt)}`);
  } else if (!identity.confirmed) {
    addSummaryRow(
      list,
      'Filing',
      'Its summary is not filed in the GP record until the patient is confirmed.',
    );
  }
  const mayConfirm = role === 'clinician' || role === 'admin';
  byId('confirm-patient').hidden = !(identity.canConfirm && mayConfirm);
  byId('confirm-ask').hidden = !(identity.canConfirm && !mayConfirm);
}
