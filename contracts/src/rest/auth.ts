import { Type, type Static } from '@sinclair/typebox';

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
