// The synthetic patients the local PDS stand-in holds: NHS numbers in the 900000000x test range
// (valid mod-11 check digits), no real person's details. Other packages' tests and the development
// set-up read them from here (`@gpc/local-pds-server/seed`) rather than repeating them.

/** One patient as the stand-in serves them; `PdsPatient` in app.ts turns this into a FHIR Patient. */
export interface SeedPatient {
  nhsNumber: string;
  given: string;
  family: string;
  /** YYYY-MM-DD */
  birthDate: string;
  gender: 'male' | 'female' | 'other' | 'unknown';
  /** ODS code of the registered GP practice; null when not registered with one. */
  gpOdsCode: string | null;
  /** A restricted (sensitive) record: served without address, telecom or generalPractitioner. */
  restricted?: true;
  /** Superseded by this NHS number: a read returns that record (its `id` differs from the one asked for). */
  supersededBy?: string;
  /** ISO date-time when PDS records a death. */
  deceasedDateTime?: string;
  postalCode?: string;
}

/**
 * By role, so a test names what it means ("the one registered elsewhere") and not a number.
 * The development practice, and test-support's first practice, is A81001; the second is B82002.
 */
export const seedPatients = {
  /** test-support's default patient (`seedConsultation`, `freeTextSubmission`), registered at A81001. */
  patExample: {
    nhsNumber: '9434765919',
    given: 'Pat',
    family: 'Example',
    birthDate: '1980-02-03',
    gender: 'unknown',
    gpOdsCode: 'A81001',
    postalCode: 'LS1 6AE',
  },
  /** NHS login's P9 test user (local OIDC provider), registered at A81001. */
  janeSmith: {
    nhsNumber: '9000000009',
    given: 'Jane',
    family: 'Smith',
    birthDate: '1985-07-14',
    gender: 'female',
    gpOdsCode: 'A81001',
    postalCode: 'LS1 6AE',
  },
  /** NHS login's P5 test user, registered at A81001. */
  samTaylor: {
    nhsNumber: '9000000017',
    given: 'Sam',
    family: 'Taylor',
    birthDate: '1992-11-02',
    gender: 'male',
    gpOdsCode: 'A81001',
    postalCode: 'LS2 7EW',
  },
  /** A restricted record, registered at A81001 (PDS does not say so: generalPractitioner is withheld). */
  restricted: {
    nhsNumber: '9000000025',
    given: 'Janet',
    family: 'Smythe',
    birthDate: '2005-06-16',
    gender: 'female',
    gpOdsCode: 'A81001',
    restricted: true,
  },
  /** Registered at another practice, Y12345. */
  chrisWalker: {
    nhsNumber: '9000000033',
    given: 'Chris',
    family: 'Walker',
    birthDate: '1969-03-30',
    gender: 'male',
    gpOdsCode: 'Y12345',
    postalCode: 'M1 1AE',
  },
  /**
   * Near miss: the same name and date of birth as `janeSmith`, a different NHS number, registered at
   * B82002. Jane Smith of A81001 typing this number is a different person's record.
   */
  janeSmithOther: {
    nhsNumber: '9000000041',
    given: 'Jane',
    family: 'Smith',
    birthDate: '1985-07-14',
    gender: 'female',
    gpOdsCode: 'B82002',
    postalCode: 'B1 1AA',
  },
  /**
   * Near miss by digits. The mod-11 check catches every single wrong digit and every single swap of
   * two digits (a swap changes the weighted sum by (a - b)(w_i - w_j), never a multiple of 11), so no
   * one-swap typo of a valid number is valid. Two swaps can be: 9000000165 with "01" and "65" each
   * swapped is 9000001056, another valid number. `alexMorgan` typing `robinHughes`' number passes
   * the checksum and reaches PDS as someone else.
   */
  alexMorgan: {
    nhsNumber: '9000000165',
    given: 'Alex',
    family: 'Morgan',
    birthDate: '1975-05-20',
    gender: 'female',
    gpOdsCode: 'A81001',
    postalCode: 'LS6 2AA',
  },
  robinHughes: {
    nhsNumber: '9000001056',
    given: 'Robin',
    family: 'Hughes',
    birthDate: '1990-08-08',
    gender: 'male',
    gpOdsCode: 'A81001',
    postalCode: 'LS7 3BB',
  },
  /** A name with an accent, registered at A81001: "Zoë Brontë" and "ZOE BRONTE" are the same surname to a trace. */
  zoeBronte: {
    nhsNumber: '9000000068',
    given: 'Zoë',
    family: 'Brontë',
    birthDate: '2001-01-09',
    gender: 'female',
    gpOdsCode: 'A81001',
  },
  /** Superseded: a read of 9000000076 returns 9000000084's record. */
  superseded: {
    nhsNumber: '9000000076',
    given: 'Lee',
    family: 'Green',
    birthDate: '1958-12-24',
    gender: 'male',
    gpOdsCode: 'A81001',
    supersededBy: '9000000084',
  },
  superseding: {
    nhsNumber: '9000000084',
    given: 'Lee',
    family: 'Green',
    birthDate: '1958-12-24',
    gender: 'male',
    gpOdsCode: 'A81001',
  },
  /** Recorded as deceased. */
  deceased: {
    nhsNumber: '9000000092',
    given: 'Morgan',
    family: 'Price',
    birthDate: '1940-04-01',
    gender: 'male',
    gpOdsCode: 'A81001',
    deceasedDateTime: '2024-03-01T10:00:00+00:00',
  },
  /** The staff dashboard's browser test's patient, registered at A81001. */
  robinSample: {
    nhsNumber: '9000000122',
    given: 'Robin',
    family: 'Sample',
    birthDate: '1975-05-06',
    gender: 'female',
    gpOdsCode: 'A81001',
  },
  /**
   * Registered at A81002, the development practice that files by GP Connect Send Document; the
   * simulated GP system there has them too, so a report about them is filed (30001).
   */
  ashaKhan: {
    nhsNumber: '9000000130',
    given: 'Asha',
    family: 'Khan',
    birthDate: '1988-10-12',
    gender: 'female',
    gpOdsCode: 'A81002',
    postalCode: 'LS8 1AB',
  },
  /**
   * Registered at A81002 by PDS, but the simulated GP system there has no record of them (a move
   * PDS knows of before the practice's system does): a report comes back "not registered" (30002).
   */
  tomBaker: {
    nhsNumber: '9000000149',
    given: 'Tom',
    family: 'Baker',
    birthDate: '1964-01-22',
    gender: 'male',
    gpOdsCode: 'A81002',
    postalCode: 'LS9 4CD',
  },
  /** Not registered with any practice. */
  unregistered: {
    nhsNumber: '9000000106',
    given: 'Kim',
    family: 'Hall',
    birthDate: '1999-09-19',
    gender: 'other',
    gpOdsCode: null,
  },
} as const satisfies Record<string, SeedPatient>;

/** A valid NHS number PDS has no record of (404). */
export const unknownNhsNumber = '9000000114';

export const seedPatientList: readonly SeedPatient[] = Object.values(seedPatients);
