import type { StaffMemberChange, StaffMemberView, StaffRole } from '@gpc/contracts';
import type { Queryable } from './queryable';

/** A practice's staff (`staff`) and their sign-in sessions (`staff_session`, one row per refresh token). */

interface StaffMemberRow {
  id: string;
  /** null for staff who sign in with NHS CIS2 */
  email: string | null;
  display_name: string;
  role: StaffRole;
  active: boolean;
  sign_in_method: 'password' | 'cis2';
}
const memberColumns = 'id, email, display_name, role, active, sign_in_method';

const toStaffMemberView = (row: StaffMemberRow): StaffMemberView => ({
  id: row.id,
  email: row.email ?? '',
  name: row.display_name,
  role: row.role,
  active: row.active,
  signInMethod: row.sign_in_method,
});

/** The practice's staff: active first, then by name. */
export async function listStaff(db: Queryable, practiceId: string): Promise<StaffMemberView[]> {
  const { rows } = await db.query<StaffMemberRow>(
    `SELECT ${memberColumns} FROM staff WHERE practice_id = $1 ORDER BY active DESC, display_name`,
    [practiceId],
  );
  return rows.map(toStaffMemberView);
}

/** Adds a member of staff; undefined when someone at the practice already has that email address. */
export async function insertStaff(
  db: Queryable,
  member: { practiceId: string; email: string; name: string; role: StaffRole; passwordHash: string },
): Promise<StaffMemberView | undefined> {
  const { rows } = await db.query<StaffMemberRow>(
    `INSERT INTO staff (practice_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (practice_id, email) DO NOTHING RETURNING ${memberColumns}`,
    [member.practiceId, member.email, member.name, member.role, member.passwordHash],
  );
  return rows[0] && toStaffMemberView(rows[0]);
}

/** Changes the practice's member of staff; fields left out stay as they are. Undefined when there is no such member. */
export async function updateStaff(
  db: Queryable,
  practiceId: string,
  staffId: string,
  change: StaffMemberChange,
): Promise<StaffMemberView | undefined> {
  const { rows } = await db.query<StaffMemberRow>(
    `UPDATE staff SET display_name = COALESCE($3, display_name), role = COALESCE($4, role), active = COALESCE($5, active)
      WHERE id = $1 AND practice_id = $2 RETURNING ${memberColumns}`,
    [staffId, practiceId, change.name ?? null, change.role ?? null, change.active ?? null],
  );
  return rows[0] && toStaffMemberView(rows[0]);
}

/** Who a session belongs to, as a staff access token names them. */
export interface StaffIdentity {
  id: string;
  practiceId: string;
  name: string;
  role: StaffRole;
}

interface StaffIdentityRow {
  id: string;
  practice_id: string;
  display_name: string;
  role: StaffRole;
}
const toStaffIdentity = (row: StaffIdentityRow): StaffIdentity => ({
  id: row.id,
  practiceId: row.practice_id,
  name: row.display_name,
  role: row.role,
});

/** The active member of staff signing in with this practice and email, with their password hash. */
export async function findStaffForSignIn(
  db: Queryable,
  odsCode: string,
  email: string,
): Promise<(StaffIdentity & { passwordHash: string }) | undefined> {
  const { rows } = await db.query<StaffIdentityRow & { password_hash: string }>(
    `SELECT s.id, s.practice_id, s.display_name, s.role, s.password_hash
       FROM staff s JOIN practice p ON p.id = s.practice_id
      WHERE p.ods_code = $1 AND s.email = $2 AND s.active`,
    [odsCode, email],
  );
  const row = rows[0];
  return row && { ...toStaffIdentity(row), passwordHash: row.password_hash };
}

/** Opens a session: the refresh token (stored hashed only) works for `days`, in `family` or a new one. */
export async function insertStaffSession(
  db: Queryable,
  staffId: string,
  refreshTokenHash: string,
  days: number,
  family?: string,
): Promise<void> {
  await db.query(
    `INSERT INTO staff_session (staff_id, refresh_token_hash, expires_at, family_id)
     VALUES ($1, $2, now() + make_interval(days => $3), COALESCE($4::uuid, gen_random_uuid()))`,
    [staffId, refreshTokenHash, days, family ?? null],
  );
}

/** What presenting a refresh token came to. */
export type RefreshOutcome =
  | { kind: 'renewed'; staff: StaffIdentity; family: string }
  /** The token had been spent already: someone holds a copy. Its whole family is revoked now. */
  | { kind: 'reused'; staffId: string; practiceId: string; family: string }
  | { kind: 'refused' };

/**
 * Spends a refresh token: marked spent as it is used, so each works once, and the new one joins its
 * family. A token spent before, presented again, revokes every token of its family (the thief's and
 * the owner's). Refused when unknown, ended, expired, or its owner has been stopped.
 */
export async function redeemRefreshToken(db: Queryable, refreshTokenHash: string): Promise<RefreshOutcome> {
  const { rows } = await db.query<StaffIdentityRow & { family_id: string }>(
    `UPDATE staff_session ss SET spent_at = now()
       FROM staff s
      WHERE ss.refresh_token_hash = $1 AND ss.spent_at IS NULL AND ss.revoked_at IS NULL AND ss.expires_at > now()
        AND s.id = ss.staff_id AND s.active
    RETURNING s.id, s.practice_id, s.display_name, s.role, ss.family_id`,
    [refreshTokenHash],
  );
  if (rows[0]) return { kind: 'renewed', staff: toStaffIdentity(rows[0]), family: rows[0].family_id };
  const spent = await db.query<{ staff_id: string; practice_id: string; family_id: string }>(
    `SELECT ss.staff_id, s.practice_id, ss.family_id FROM staff_session ss JOIN staff s ON s.id = ss.staff_id
      WHERE ss.refresh_token_hash = $1 AND ss.spent_at IS NOT NULL`,
    [refreshTokenHash],
  );
  const reused = spent.rows[0];
  if (!reused) return { kind: 'refused' };
  await db.query('UPDATE staff_session SET revoked_at = now() WHERE family_id = $1 AND revoked_at IS NULL', [
    reused.family_id,
  ]);
  return {
    kind: 'reused',
    staffId: reused.staff_id,
    practiceId: reused.practice_id,
    family: reused.family_id,
  };
}

/** Ends the session of this refresh token (signing out): its whole family stops. */
export async function revokeRefreshToken(db: Queryable, refreshTokenHash: string): Promise<void> {
  await db.query(
    `UPDATE staff_session SET revoked_at = now() WHERE revoked_at IS NULL
        AND family_id = (SELECT family_id FROM staff_session WHERE refresh_token_hash = $1)`,
    [refreshTokenHash],
  );
}

/** Ends every session of a member of staff: their refresh tokens stop working now. */
export async function revokeStaffSessions(db: Queryable, staffId: string): Promise<void> {
  await db.query('UPDATE staff_session SET revoked_at = now() WHERE staff_id = $1 AND revoked_at IS NULL', [
    staffId,
  ]);
}

/** Whether a request may be assigned to `staffId`: an active member of the practice's staff. */
export async function isAssignableStaff(
  db: Queryable,
  practiceId: string,
  staffId: string,
): Promise<boolean> {
  const colleague = await db.query('SELECT 1 FROM staff WHERE id = $1 AND practice_id = $2 AND active', [
    staffId,
    practiceId,
  ]);
  return (colleague.rowCount ?? 0) > 0;
}
