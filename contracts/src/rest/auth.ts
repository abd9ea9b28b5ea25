import { Type, type Static } from '@sinclair/typebox';
import { StaffRole } from '../call/tokens';

/** `POST /auth/login`: a member of staff signs in with their practice, email and password. */
export const SignInBody = Type.Object(
  {
    odsCode: Type.String({ pattern: '^[A-Za-z0-9]{3,10}$' }),
    email: Type.String({ minLength: 3, maxLength: 254 }),
    password: Type.String({ minLength: 1, maxLength: 200 }),
  },
  { additionalProperties: false },
);
export type SignInBody = Static<typeof SignInBody>;

/** `POST /auth/refresh` and `POST /auth/logout`: the session's refresh token. */
export const RefreshTokenBody = Type.Object(
  { refreshToken: Type.String({ minLength: 20, maxLength: 200 }) },
  { additionalProperties: false },
);
export type RefreshTokenBody = Static<typeof RefreshTokenBody>;

/** A signed-in member of staff's session: a short-lived access token and the refresh token that renews it. */
export const StaffSession = Type.Object({
  accessToken: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds until the access token expires' }),
  refreshToken: Type.String(),
  staff: Type.Object({
    id: Type.String(),
    name: Type.String(),
    role: Type.String(),
    practiceId: Type.String(),
  }),
});
export type StaffSession = Static<typeof StaffSession>;

/**
 * A sign-in between its password and its session: the next step and its proof, a short-lived,
 * single-purpose opaque token good only for that step (never an access token). `totp`: a code from
 * the authenticator app or a recovery code; `change-password`: an admin reset the password, so a
 * new one is chosen; `enrol-mfa`: the practice requires MFA of this role and it is not set up yet.
 */
export const SignInStep = Type.Object({
  step: Type.Union([Type.Literal('totp'), Type.Literal('change-password'), Type.Literal('enrol-mfa')]),
  pendingToken: Type.String(),
  expiresIn: Type.Integer({ description: 'seconds until the proof expires' }),
});
export type SignInStep = Static<typeof SignInStep>;

/** What signing in (or one of its steps) leads to: the session, or the next step. */
export const SignInResult = Type.Union([StaffSession, SignInStep]);
export type SignInResult = Static<typeof SignInResult>;

const PendingToken = Type.String({ minLength: 20, maxLength: 200 });
/** A code from the authenticator app (6 digits) or a recovery code (10 letters and digits, hyphen optional). */
const MfaCode = Type.String({ minLength: 6, maxLength: 20 });
/** A new password: 12 characters at least (NCSC: length over complexity). */
export const NewPassword = Type.String({ minLength: 12, maxLength: 200 });

/** `POST /auth/mfa`: the sign-in's second factor. */
export const SignInCodeBody = Type.Object(
  { pendingToken: PendingToken, code: MfaCode },
  { additionalProperties: false },
);
export type SignInCodeBody = Static<typeof SignInCodeBody>;

/** `POST /auth/mfa/enrolment`: the enrolment step's proof. */
export const PendingTokenBody = Type.Object({ pendingToken: PendingToken }, { additionalProperties: false });
export type PendingTokenBody = Static<typeof PendingTokenBody>;

/** `POST /auth/password`: a new password, chosen after an admin's reset. */
export const SignInNewPasswordBody = Type.Object(
  { pendingToken: PendingToken, newPassword: NewPassword },
  { additionalProperties: false },
);
export type SignInNewPasswordBody = Static<typeof SignInNewPasswordBody>;

/** A TOTP secret being enrolled, shown once: as a QR code (an SVG data URL) and as text. */
export const MfaEnrolment = Type.Object({
  secret: Type.String({ description: 'base32, for typing into the app' }),
  otpauthUrl: Type.String(),
  qrCode: Type.String({ description: 'data:image/svg+xml URL' }),
});
export type MfaEnrolment = Static<typeof MfaEnrolment>;

/** `POST /auth/mfa/enrolment/confirm` and `POST /account/mfa/confirm`: the first code from the new secret. */
export const MfaConfirmBody = Type.Object(
  { code: Type.String({ pattern: '^[0-9]{6}$' }) },
  { additionalProperties: false },
);
export type MfaConfirmBody = Static<typeof MfaConfirmBody>;
export const SignInMfaConfirmBody = Type.Object(
  { pendingToken: PendingToken, code: Type.String({ pattern: '^[0-9]{6}$' }) },
  { additionalProperties: false },
);
export type SignInMfaConfirmBody = Static<typeof SignInMfaConfirmBody>;

/** Ten recovery codes, shown once; each works once in place of a code from the app. */
export const RecoveryCodes = Type.Object({ recoveryCodes: Type.Array(Type.String()) });
export type RecoveryCodes = Static<typeof RecoveryCodes>;

/** Enrolment confirmed during sign-in: the recovery codes and the session. */
export const EnrolledSession = Type.Object({
  recoveryCodes: Type.Array(Type.String()),
  session: StaffSession,
});
export type EnrolledSession = Static<typeof EnrolledSession>;

/** `GET /account`: the signed-in member of staff's own sign-in settings. */
export const AccountView = Type.Object({
  email: Type.Union([Type.String(), Type.Null()]),
  mfaEnabled: Type.Boolean(),
  mfaRequired: Type.Boolean({ description: 'the practice requires MFA of this role' }),
  recoveryCodesLeft: Type.Integer(),
});
export type AccountView = Static<typeof AccountView>;

/** `POST /account/password`: the current password, and the new one. */
export const PasswordChangeBody = Type.Object(
  { currentPassword: Type.String({ minLength: 1, maxLength: 200 }), newPassword: NewPassword },
  { additionalProperties: false },
);
export type PasswordChangeBody = Static<typeof PasswordChangeBody>;

/** `POST /staff/:staffId/password/reset`: a temporary password, shown once, that must be changed at next sign-in. */
export const TemporaryPassword = Type.Object({ temporaryPassword: Type.String() });
export type TemporaryPassword = Static<typeof TemporaryPassword>;

export const StaffIdParams = Type.Object({ staffId: Type.String({ format: 'uuid' }) });
export type StaffIdParams = Static<typeof StaffIdParams>;

/** `GET` and `PUT /practice/mfa-policy`: the roles that must sign in with MFA. */
export const MfaPolicy = Type.Object(
  { requiredRoles: Type.Array(StaffRole, { uniqueItems: true, maxItems: 3 }) },
  { additionalProperties: false },
);
export type MfaPolicy = Static<typeof MfaPolicy>;
