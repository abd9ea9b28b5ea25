import { Type, type Static } from '@sinclair/typebox';
import { OneOf } from '../schema';
import { DisplayName } from './fields';

/** Ids of our own making in a token's claims: uuids and practice ids. */
const ClaimId = Type.String({ minLength: 1, maxLength: 64 });

export const StaffRole = OneOf(['admin', 'clinician', 'reception']);
export type StaffRole = Static<typeof StaffRole>;

/** Who every token names: one person (`sub`, shown by `name`) of one practice. */
const PersonClaims = { sub: ClaimId, practiceId: ClaimId, name: DisplayName };

/** Claims of a staff access token (issued by triage at login; short-lived). */
export const StaffTokenClaims = Type.Object({ typ: Type.Literal('staff'), ...PersonClaims, role: StaffRole });
export type StaffTokenClaims = Static<typeof StaffTokenClaims>;

/** Who a call link lets in: the patient, or a third participant such as an interpreter or carer. */
export const CallGuestRole = OneOf(['patient', 'guest']);
export type CallGuestRole = Static<typeof CallGuestRole>;

/** Claims of a call link token: bound to one call, one participant and one role; expires. */
export const CallTokenClaims = Type.Object({
  typ: Type.Literal('call'),
  ...PersonClaims,
  callId: ClaimId,
  role: CallGuestRole,
});
export type CallTokenClaims = Static<typeof CallTokenClaims>;
