import { Type, type Static } from '@sinclair/typebox';
import { OneOf } from '../schema';

/** `GET /auth/cis2/offer?ods=…`: whether the practice's staff may sign in with NHS CIS2 (public). */
export const Cis2Offer = Type.Object({ offered: Type.Boolean() });
export type Cis2Offer = Static<typeof Cis2Offer>;

/** The staff page a CIS2 sign-in starts from and goes back to. */
export const Cis2ReturnPage = OneOf(['staff', 'settings']);
export type Cis2ReturnPage = Static<typeof Cis2ReturnPage>;

/** `GET /auth/cis2/start?ods=…&page=…`: starts a sign-in (a redirect to CIS2). */
export const Cis2StartQuery = Type.Object(
  {
    ods: Type.String({ pattern: '^[A-Za-z0-9]{3,10}$' }),
    page: Type.Optional(Cis2ReturnPage),
  },
  { additionalProperties: false },
);
export type Cis2StartQuery = Static<typeof Cis2StartQuery>;

/**
 * `POST /auth/cis2/session`: the one-time code the callback put in the staff page's URL fragment
 * (`#cis2=…`), exchanged once, within a minute, for a staff session.
 */
export const Cis2SessionBody = Type.Object(
  { code: Type.String({ pattern: '^[A-Za-z0-9_-]{43}$' }) },
  { additionalProperties: false },
);
export type Cis2SessionBody = Static<typeof Cis2SessionBody>;

/**
 * Why a CIS2 sign-in sent the browser back to the staff page without a session, in its URL
 * fragment (`#cis2-error=…`): the page says it in words.
 */
export const Cis2Failure = OneOf([
  /** they pressed cancel at CIS2 */
  'cancelled',
  /** the sign-in ran out, or its callback was replayed */
  'expired',
  /** CIS2's answer could not be checked (a forged or mismatched token, another issuer) */
  'failed',
  /** the authenticator's assurance level is lower than the practice needs */
  'assurance',
  /** no national RBAC role at this practice's ODS code that this service maps */
  'no-role',
  /** their access here has been stopped by the practice */
  'stopped',
  'unavailable',
  'not-offered',
]);
export type Cis2Failure = Static<typeof Cis2Failure>;
