import { Type, type Static } from '@sinclair/typebox';
import { OneOf } from '../schema';

/** `GET /practices/:ods/nhs-login/offer`: whether the form offers "Continue with NHS login". */
export const NhsLoginOffer = Type.Object({ offered: Type.Boolean() });
export type NhsLoginOffer = Static<typeof NhsLoginOffer>;

/** NHS login's identity proofing levels this service takes (P0 carries no NHS number). */
export const NhsLoginProofingLevel = OneOf(['P5', 'P9']);
export type NhsLoginProofingLevel = Static<typeof NhsLoginProofingLevel>;

/**
 * `GET /nhs-login/session` (the session token as bearer): who NHS login says the patient is, to
 * show on the form. Never the NHS number: NHS login's terms say the patient must not be shown it.
 */
export const NhsLoginIdentityView = Type.Object({
  /** The practice the sign-in is for: a request to another practice refuses it. */
  odsCode: Type.String(),
  givenName: Type.String(),
  familyName: Type.String(),
  birthDate: Type.String({ format: 'date' }),
  proofingLevel: NhsLoginProofingLevel,
  /** When the session runs out (ISO 8601): the request must be sent before. */
  expiresAt: Type.String(),
});
export type NhsLoginIdentityView = Static<typeof NhsLoginIdentityView>;

/**
 * Why a sign-in sent the patient back to the form without a session, in the form page's URL fragment
 * (`#nhs-login-error=…`): the page says it in words.
 */
export const NhsLoginFailure = OneOf([
  'cancelled',
  'expired',
  'failed',
  'not-verified',
  'unavailable',
  'not-offered',
]);
export type NhsLoginFailure = Static<typeof NhsLoginFailure>;
