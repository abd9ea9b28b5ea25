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

/** Who a call token lets in: a link's patient or guest, or the member of staff hosting (`sub` = their staff id). */
export const CallTokenRole = OneOf(['patient', 'guest', 'clinician']);
export type CallTokenRole = Static<typeof CallTokenRole>;

/**
 * Claims of a call token, signed by triage for signalling: bound to one call (of one consultation),
 * one participant and one role; expires. The first valid token for a call opens it on the call node.
 */
export const CallTokenClaims = Type.Object({
  typ: Type.Literal('call'),
  ...PersonClaims,
  callId: ClaimId,
  consultationId: ClaimId,
  role: CallTokenRole,
  /** The call node the call runs on, when the deployment names one. */
  node: Type.Optional(ClaimId),
});
export type CallTokenClaims = Static<typeof CallTokenClaims>;

/**
 * Every token is signed by triage with an EdDSA key of its JWK set (`kid` in the header), names its
 * issuer (`iss`), and is meant for one audience (`aud`): a token is refused wherever another
 * audience is expected, so no kind of token stands in for another.
 */
export const TokenAudience = {
  /** Staff access tokens, for triage's staff routes and the dashboards' live feed. */
  staff: 'gpc-triage/staff',
  /** The link to a patient's thread (opens only the date-of-birth check). */
  threadLink: 'gpc-triage/thread-link',
  /** The short session the right date of birth gives. */
  threadSession: 'gpc-triage/thread-session',
  /** Call tokens: a patient's or guest's link, or a host's, for the call node. */
  call: 'gpc-signalling',
} as const;
export type TokenKind = keyof typeof TokenAudience;

/** The issuer triage names in its tokens unless its deployment says otherwise. */
export const defaultTokenIssuer = 'gpc-triage';
