import type { StaffRole } from '@gpc/contracts';
import type { Queryable } from './queryable';
import type { StaffIdentity } from './staff';

/**
 * NHS CIS2 staff sign-in (`cis2_request`, `cis2_handover`, `practice.cis2_sign_in`, and the CIS2
 * columns of `staff`). States and hand-over codes are stored as their sha-256 hashes; rows are
 * removed once used or expired.
 */

/** A practice as the CIS2 routes need it: whether its staff may sign in with CIS2. */
export async function findCis2Practice(
  db: Queryable,
  odsCode: string,
): Promise<{ id: string; odsCode: string; offered: boolean } | undefined> {
  const { rows } = await db.query<{ id: string; ods_code: string; cis2_sign_in: boolean }>(
    'SELECT id, ods_code, cis2_sign_in FROM practice WHERE ods_code = $1',
    [odsCode.toUpperCase()],
  );
  const row = rows[0];
  return row ? { id: row.id, odsCode: row.ods_code, offered: row.cis2_sign_in } : undefined;
}

/** Lets (or stops letting) the practice's staff sign in with CIS2. */
export async function setCis2SignIn(db: Queryable, practiceId: string, offered: boolean): Promise<void> {
  await db.query('UPDATE practice SET cis2_sign_in = $2 WHERE id = $1', [practiceId, offered]);
}

/** The staff page a sign-in goes back to. */
export type Cis2ReturnPage = 'staff' | 'settings';

/** A sign-in on its way to CIS2: what the callback needs to finish it. */
export interface Cis2Request {
  stateHash: Buffer;
  practiceId: string;
  nonce: string;
  codeVerifier: string;
  /** `acr_values` as sent: the ID token's `acr` must be one of them. */
  acrValues: string;
  returnPage: Cis2ReturnPage;
  createdAt: Date;
  expiresAt: Date;
}

/** Keeps a sign-in on its way (and drops those that ran out). */
export async function insertCis2Request(db: Queryable, request: Cis2Request): Promise<void> {
  await db.query(
    `WITH expired AS (DELETE FROM cis2_request WHERE expires_at <= $7)
     INSERT INTO cis2_request (state_hash, practice_id, nonce, code_verifier, acr_values, return_page, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
    [
      request.stateHash,
      request.practiceId,
      request.nonce,
      request.codeVerifier,
      request.acrValues,
      request.returnPage,
      request.createdAt,
      request.expiresAt,
    ],
  );
}

/** Takes the sign-in with this state, once (a replayed callback finds nothing); undefined when none or expired. */
export async function takeCis2Request(
  db: Queryable,
  stateHash: Buffer,
  now: Date,
): Promise<(Cis2Request & { practiceOdsCode: string }) | undefined> {
  const { rows } = await db.query<{
    practice_id: string;
    ods_code: string;
    nonce: string;
    code_verifier: string;
    acr_values: string;
    return_page: Cis2ReturnPage;
    created_at: Date;
    expires_at: Date;
  }>(
    `WITH taken AS (DELETE FROM cis2_request WHERE state_hash = $1 RETURNING *)
     SELECT t.practice_id, p.ods_code, t.nonce, t.code_verifier, t.acr_values, t.return_page, t.created_at, t.expires_at
       FROM taken t JOIN practice p ON p.id = t.practice_id WHERE t.expires_at > $2`,
    [stateHash, now],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    stateHash,
    practiceId: row.practice_id,
    practiceOdsCode: row.ods_code,
    nonce: row.nonce,
    codeVerifier: row.code_verifier,
    acrValues: row.acr_values,
    returnPage: row.return_page,
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/**
 * The practice's member of staff with this CIS2 user id, added if new (no password, no email),
 * with the name and role CIS2's claims give now: the role is refreshed at every sign-in. Whether
 * they are active comes back too: a stopped member stays stopped, whatever CIS2 says.
 */
export async function upsertCis2Staff(
  db: Queryable,
  member: { practiceId: string; cis2Uid: string; name: string; role: StaffRole },
): Promise<StaffIdentity & { active: boolean }> {
  const { rows } = await db.query<{
    id: string;
    practice_id: string;
    display_name: string;
    role: StaffRole;
    active: boolean;
  }>(
    `INSERT INTO staff (practice_id, display_name, role, sign_in_method, cis2_uid)
     VALUES ($1, $2, $3, 'cis2', $4)
     ON CONFLICT (practice_id, cis2_uid) WHERE cis2_uid IS NOT NULL
     DO UPDATE SET display_name = excluded.display_name, role = excluded.role
     RETURNING id, practice_id, display_name, role, active`,
    [member.practiceId, member.name, member.role, member.cis2Uid],
  );
  const row = rows[0]!;
  return {
    id: row.id,
    practiceId: row.practice_id,
    name: row.display_name,
    role: row.role,
    active: row.active,
  };
}

/** Keeps a finished sign-in for the staff page to take (and drops hand-overs that ran out). */
export async function insertCis2Handover(
  db: Queryable,
  handover: { codeHash: Buffer; staffId: string; createdAt: Date; expiresAt: Date },
): Promise<void> {
  await db.query(
    `WITH expired AS (DELETE FROM cis2_handover WHERE expires_at <= $3)
     INSERT INTO cis2_handover (code_hash, staff_id, created_at, expires_at) VALUES ($1, $2, $3, $4)`,
    [handover.codeHash, handover.staffId, handover.createdAt, handover.expiresAt],
  );
}

/**
 * Takes a hand-over, once: its member of staff, when it has not run out and they are still an
 * active CIS2 member of staff; undefined otherwise (the code is gone either way).
 */
export async function takeCis2Handover(
  db: Queryable,
  codeHash: Buffer,
  now: Date,
): Promise<StaffIdentity | undefined> {
  const { rows } = await db.query<{ id: string; practice_id: string; display_name: string; role: StaffRole }>(
    `WITH taken AS (DELETE FROM cis2_handover WHERE code_hash = $1 RETURNING staff_id, expires_at)
     SELECT s.id, s.practice_id, s.display_name, s.role
       FROM taken t JOIN staff s ON s.id = t.staff_id
      WHERE t.expires_at > $2 AND s.active AND s.sign_in_method = 'cis2'`,
    [codeHash, now],
  );
  const row = rows[0];
  return row && { id: row.id, practiceId: row.practice_id, name: row.display_name, role: row.role };
}
