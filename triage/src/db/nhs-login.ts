import type { Queryable } from './queryable';

/**
 * NHS login on the public form (`nhs_login_request`, `nhs_login_session`, `practice.nhs_login_offered`).
 * Tokens and states are stored as their sha-256 hashes; rows are removed once expired.
 */

/** A practice as the NHS login routes need it: whether it offers NHS login on its form. */
export async function findNhsLoginPractice(
  db: Queryable,
  odsCode: string,
): Promise<{ id: string; odsCode: string; offered: boolean } | undefined> {
  const { rows } = await db.query<{ id: string; ods_code: string; nhs_login_offered: boolean }>(
    'SELECT id, ods_code, nhs_login_offered FROM practice WHERE ods_code = $1',
    [odsCode.toUpperCase()],
  );
  const row = rows[0];
  return row ? { id: row.id, odsCode: row.ods_code, offered: row.nhs_login_offered } : undefined;
}

/** A sign-in on its way to NHS login: what the callback needs to finish it. */
export interface NhsLoginRequest {
  stateHash: Buffer;
  practiceId: string;
  nonce: string;
  codeVerifier: string;
  createdAt: Date;
  expiresAt: Date;
}

/** Keeps a sign-in on its way (and drops those that ran out). */
export async function insertNhsLoginRequest(db: Queryable, request: NhsLoginRequest): Promise<void> {
  await db.query(
    `WITH expired AS (DELETE FROM nhs_login_request WHERE expires_at <= $5)
     INSERT INTO nhs_login_request (state_hash, practice_id, nonce, code_verifier, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [
      request.stateHash,
      request.practiceId,
      request.nonce,
      request.codeVerifier,
      request.createdAt,
      request.expiresAt,
    ],
  );
}

/**
 * Takes the sign-in with this state, once: it is gone whatever happens next, so a callback replayed
 * finds nothing. Undefined when there is none, or it has run out.
 */
export async function takeNhsLoginRequest(
  db: Queryable,
  stateHash: Buffer,
  now: Date,
): Promise<(NhsLoginRequest & { practiceOdsCode: string }) | undefined> {
  const { rows } = await db.query<{
    practice_id: string;
    ods_code: string;
    nonce: string;
    code_verifier: string;
    created_at: Date;
    expires_at: Date;
  }>(
    `WITH taken AS (DELETE FROM nhs_login_request WHERE state_hash = $1 RETURNING *)
     SELECT t.practice_id, p.ods_code, t.nonce, t.code_verifier, t.created_at, t.expires_at
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
    createdAt: row.created_at,
    expiresAt: row.expires_at,
  };
}

/** Who NHS login says the patient is. */
export interface NhsLoginIdentity {
  subject: string;
  nhsNumber: string;
  givenName: string;
  familyName: string;
  /** YYYY-MM-DD */
  birthDate: string;
  proofingLevel: 'P5' | 'P9';
  vot: string;
}

export interface NhsLoginSession {
  practiceId: string;
  practiceOdsCode: string;
  identity: NhsLoginIdentity;
  expiresAt: Date;
  usedAt: Date | null;
  /** The idempotency key of the request it was used for, if any (a retry of that request is no reuse). */
  usedForKey: string | null;
}

/** Keeps NHS login's identity for one request (and drops sessions that ran out). */
export async function insertNhsLoginSession(
  db: Queryable,
  session: {
    tokenHash: Buffer;
    practiceId: string;
    identity: NhsLoginIdentity;
    createdAt: Date;
    expiresAt: Date;
  },
): Promise<void> {
  const { identity } = session;
  await db.query(
    `WITH expired AS (DELETE FROM nhs_login_session WHERE expires_at <= $10)
     INSERT INTO nhs_login_session (token_hash, practice_id, subject, nhs_number, given_name, family_name,
       birth_date, proofing_level, vot, created_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
    [
      session.tokenHash,
      session.practiceId,
      identity.subject,
      identity.nhsNumber,
      identity.givenName,
      identity.familyName,
      identity.birthDate,
      identity.proofingLevel,
      identity.vot,
      session.createdAt,
      session.expiresAt,
    ],
  );
}

interface SessionRow {
  practice_id: string;
  ods_code: string;
  subject: string;
  nhs_number: string;
  given_name: string;
  family_name: string;
  birth_date: string;
  proofing_level: 'P5' | 'P9';
  vot: string;
  expires_at: Date;
  used_at: Date | null;
  used_for_key: string | null;
}

const sessionSql = `SELECT s.practice_id, p.ods_code, s.subject, s.nhs_number, s.given_name, s.family_name,
       to_char(s.birth_date, 'YYYY-MM-DD') AS birth_date, s.proofing_level, s.vot, s.expires_at, s.used_at,
       c.idempotency_key AS used_for_key
  FROM nhs_login_session s JOIN practice p ON p.id = s.practice_id
  LEFT JOIN consultation c ON c.id = s.consultation_id
 WHERE s.token_hash = $1`;

const toSession = (row: SessionRow): NhsLoginSession => ({
  practiceId: row.practice_id,
  practiceOdsCode: row.ods_code,
  identity: {
    subject: row.subject,
    nhsNumber: row.nhs_number,
    givenName: row.given_name,
    familyName: row.family_name,
    birthDate: row.birth_date,
    proofingLevel: row.proofing_level,
    vot: row.vot,
  },
  expiresAt: row.expires_at,
  usedAt: row.used_at,
  usedForKey: row.used_for_key,
});

/** The session with this token hash, if any (expired or used ones too: the caller says which). */
export async function findNhsLoginSession(
  db: Queryable,
  tokenHash: Buffer,
): Promise<NhsLoginSession | undefined> {
  const { rows } = await db.query<SessionRow>(sessionSql, [tokenHash]);
  return rows[0] ? toSession(rows[0]) : undefined;
}

/**
 * The same, locked until the transaction ends: a request using it holds it from the check to the
 * mark, so two requests can never both use one session.
 */
export async function lockNhsLoginSession(
  db: Queryable,
  tokenHash: Buffer,
): Promise<NhsLoginSession | undefined> {
  await db.query('SELECT 1 FROM nhs_login_session WHERE token_hash = $1 FOR UPDATE', [tokenHash]);
  // read after the lock, in a statement of its own: one that waited for the lock then sees the
  // request the other committed (a join in the locking statement would not)
  return findNhsLoginSession(db, tokenHash);
}

/** Marks the session used, by the request it went with. */
export async function markNhsLoginSessionUsed(
  db: Queryable,
  tokenHash: Buffer,
  used: { at: Date; consultationId: string },
): Promise<void> {
  await db.query('UPDATE nhs_login_session SET used_at = $2, consultation_id = $3 WHERE token_hash = $1', [
    tokenHash,
    used.at,
    used.consultationId,
  ]);
}
