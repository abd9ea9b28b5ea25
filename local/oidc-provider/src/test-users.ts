/**
 * The people who can sign in to the local NHS login stand-in: two synthetic patients, one verified
 * to each level NHS login gives a GP service. Both are registered at A81001 (the development
 * practice) in the local PDS stand-in. The passwords are shown on the sign-in page: they guard nothing.
 */

/** NHS login's identity proofing levels; P0 (email and phone only) carries no NHS number. */
export type ProofingLevel = 'P0' | 'P5' | 'P9';

export interface NhsLoginTestUser {
  /** NHS login's subject: opaque, stable, never reassigned. */
  sub: string;
  email: string;
  password: string;
  nhsNumber: string;
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD */
  birthDate: string;
  proofingLevel: ProofingLevel;
  /** The vector of trust NHS login returns in `vot`: the proofing level and how they signed in. */
  vot: string;
}

export const nhsLoginTestUsers: readonly NhsLoginTestUser[] = [
  {
    sub: '2a0f6b8e-5a43-4c47-9a0c-7d1f2b9c0f09',
    email: 'jane.smith.p9@example.org',
    password: 'local-p9-password',
    nhsNumber: '9000000009',
    givenName: 'Jane',
    familyName: 'SMITH',
    birthDate: '1985-07-14',
    proofingLevel: 'P9',
    vot: 'P9.Cp.Cd',
  },
  {
    sub: '7c3e1d52-90b4-4e8b-8f0e-3b5a6c2d1e17',
    email: 'sam.taylor.p5@example.org',
    password: 'local-p5-password',
    nhsNumber: '9000000017',
    givenName: 'Sam',
    familyName: 'TAYLOR',
    birthDate: '1992-11-02',
    proofingLevel: 'P5',
    vot: 'P5.Cp.Cd',
  },
];

export const findTestUser = (sub: string): NhsLoginTestUser | undefined =>
  nhsLoginTestUsers.find((user) => user.sub === sub);

export const findTestUserBySignIn = (email: string, password: string): NhsLoginTestUser | undefined =>
  nhsLoginTestUsers.find((user) => user.email === email.trim().toLowerCase() && user.password === password);
