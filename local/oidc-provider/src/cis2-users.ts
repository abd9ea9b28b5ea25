/**
 * The people who can sign in to the local NHS CIS2 stand-in: synthetic health and care staff, each
 * with the national RBAC roles CIS2 would give for them (`nhsid_nrbac_roles`) and an authenticator
 * of an assurance level (AAL2 or AAL3). A81001 is the development practice; B82002 is another
 * practice. The passcodes stand in for a smartcard's PIN or an authenticator app: they are shown
 * on the sign-in page and guard nothing.
 *
 * Role codes are national RBAC job role codes (`R` codes) as CIS2 sends them, inside
 * `S<sector>:G<group>:R<role>` triples; their names are the UK Core SDS job role names
 * (https://fhir.hl7.org.uk/CodeSystem/UKCore-SDSJobRoleName), e.g. R8000 Clinical Practitioner
 * Access Role.
 */

/** CIS2's authenticator assurance levels: AAL2 (e.g. an authenticator app), AAL3 (e.g. a smartcard). */
export type AssuranceLevel = 'AAL2' | 'AAL3';

/** One element of `nhsid_nrbac_roles`, as CIS2's userinfo gives it for the `nationalrbacaccess` scope. */
export interface NrbacRole {
  /** The ODS code of the organisation the role is held at. */
  org_code: string;
  person_orgid: string;
  /** The user's role profile id (what `selected_roleid` names). */
  person_roleid: string;
  /** e.g. `S8000:G8000:R8000` */
  role_code: string;
  /** e.g. `"Clinical":"Clinical Provision":"Clinical Practitioner Access Role"` */
  role_name: string;
}

export interface Cis2TestUser {
  /** CIS2's subject and `nhsid_useruid`: the user's 12-digit UUID. */
  uid: string;
  /** What the stand-in's sign-in form takes in place of a smartcard. */
  email: string;
  password: string;
  givenName: string;
  familyName: string;
  /** What this user's authenticator reaches. */
  assurance: AssuranceLevel;
  /** CIS2's `amr` for that authenticator. */
  amr: string[];
  /** Who they are, for the sign-in page. */
  description: string;
  roles: NrbacRole[];
}

const role = (
  orgCode: string,
  personRoleId: string,
  code: string,
  name: string,
  area: [string, string] = ['Admin & Clerical', 'Admin & Clerical'],
): NrbacRole => ({
  org_code: orgCode,
  person_orgid: `${personRoleId.slice(0, 9)}100`,
  person_roleid: personRoleId,
  role_code: `S8000:G8000:${code}`,
  role_name: `"${area[0]}":"${area[1]}":"${name}"`,
});
const clinical: [string, string] = ['Clinical', 'Clinical Provision'];

export const cis2TestUsers: readonly Cis2TestUser[] = [
  {
    uid: '555000000101',
    email: 'asha.patel.gp@cis2.example',
    password: 'local-cis2-gp',
    givenName: 'Asha',
    familyName: 'PATEL',
    assurance: 'AAL3',
    amr: ['N3_SMARTCARD'],
    description: 'GP at A81001 (smartcard, AAL3)',
    roles: [role('A81001', '555000000111', 'R8000', 'Clinical Practitioner Access Role', clinical)],
  },
  {
    uid: '555000000202',
    email: 'morgan.hughes.pm@cis2.example',
    password: 'local-cis2-manager',
    givenName: 'Morgan',
    familyName: 'HUGHES',
    assurance: 'AAL3',
    amr: ['N3_SMARTCARD'],
    description: 'Practice manager at A81001 (smartcard, AAL3)',
    roles: [
      role('A81001', '555000000211', 'R8011', 'Clerical Manager Access Role'),
      role('A81001', '555000000212', 'R8008', 'Admin/Clinical Support Access Role'),
    ],
  },
  {
    uid: '555000000303',
    email: 'sam.oneill.reception@cis2.example',
    password: 'local-cis2-reception',
    givenName: 'Sam',
    familyName: "O'NEILL",
    assurance: 'AAL2',
    amr: ['TOTP'],
    description: 'Receptionist at A81001 (authenticator app, AAL2)',
    roles: [role('A81001', '555000000311', 'R8009', 'Receptionist Access Role')],
  },
  {
    uid: '555000000404',
    email: 'chris.jones.gp@cis2.example',
    password: 'local-cis2-elsewhere',
    givenName: 'Chris',
    familyName: 'JONES',
    assurance: 'AAL3',
    amr: ['N3_SMARTCARD'],
    description: 'GP at another practice, B82002 (no role at A81001)',
    roles: [role('B82002', '555000000411', 'R8000', 'Clinical Practitioner Access Role', clinical)],
  },
];

export const findCis2User = (uid: string): Cis2TestUser | undefined =>
  cis2TestUsers.find((user) => user.uid === uid);

export const findCis2UserBySignIn = (email: string, password: string): Cis2TestUser | undefined =>
  cis2TestUsers.find((user) => user.email === email.trim().toLowerCase() && user.password === password);
