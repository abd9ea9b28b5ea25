import { Type, type Static } from '@sinclair/typebox';
import { OneOf, Nullable } from '../schema';

/**
 * Where a request's patient identity stands (the `consultation.identity_status` column):
 * - `tracing`: a trace against PDS is owed (or tracing is not set up)
 * - `verified`: PDS agrees on the NHS number, date of birth and surname, and the patient is registered here
 * - `registered_elsewhere`, `details_disagree`, `not_found`, `restricted`: PDS said otherwise (the reason says how)
 * - `trace_unavailable`: PDS could not be asked; the trace is retried
 * - `no_nhs_number`: nothing to trace
 * - `nhs_login_p9`: the patient signed in with NHS login at P9, which arrives confirmed
 */
export const IdentityStatuses = [
  'tracing',
  'verified',
  'registered_elsewhere',
  'details_disagree',
  'not_found',
  'restricted',
  'trace_unavailable',
  'no_nhs_number',
  'nhs_login_p9',
] as const;
export const IdentityStatus = OneOf(IdentityStatuses);
export type IdentityStatus = Static<typeof IdentityStatus>;

/** Who the patient is, as far as the service can tell, and who confirmed it: a request's identity panel. */
export const IdentityView = Type.Object({
  /** Where the patient's details came from: typed into the form, or NHS login (not editable). */
  source: OneOf(['form', 'nhs_login']),
  proofingLevel: Nullable(OneOf(['P0', 'P5', 'P9'])),
  status: IdentityStatus,
  /** The status in words for staff, e.g. why the patient needs matching by hand. */
  reason: Type.String(),
  /** When PDS last answered a trace for this request; null until it has. */
  tracedAt: Nullable(Type.String({ format: 'date-time' })),
  /** Confirmed for the NHS number the request has now: its summary may be filed. */
  confirmed: Type.Boolean(),
  confirmedAt: Nullable(Type.String({ format: 'date-time' })),
  /** Null for NHS login at P9 (no one pressed anything), or a member of staff since removed. */
  confirmedBy: Nullable(Type.Object({ id: Type.String(), name: Type.String() })),
  /** Whether "Confirm patient" may be pressed now (a verified trace, not yet confirmed). */
  canConfirm: Type.Boolean(),
});
export type IdentityView = Static<typeof IdentityView>;
