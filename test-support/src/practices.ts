import { randomUUID } from 'node:crypto';
import type pg from 'pg';
import type { StaffRole, StaffTokenClaims } from '@gpc/contracts';
import { createPractice, freezeSummaryVersion, hashPassword } from '@gpc/triage';

export interface SeededStaff {
  id: string;
  email: string;
  password: string;
  role: StaffRole;
  /** As the practice's staff list and the access token show it. */
  name: string;
}
export interface SeededPractice {
  id: string;
  odsCode: string;
  staff: Record<StaffRole, SeededStaff>;
}

const roles = ['admin', 'clinician', 'reception'] as const;

/** A practice with one member of staff of each role, each with a known password. */
export async function seedPractice(pool: pg.Pool, odsCode: string): Promise<SeededPractice> {
  const practiceId = await createPractice(pool, { odsCode, name: `Practice ${odsCode}` });
  // open out of hours too, so a test not about hours passes at any hour it runs (an English practice
  // set 'closed' refuses requests after 18:30 and at weekends); tests about hours set their own
  // and no role has to use MFA, so tests sign in with a password; MFA tests set the policy themselves
  await pool.query(`UPDATE practice SET out_of_hours = 'open', mfa_required_roles = '{}' WHERE id = $1`, [
    practiceId,
  ]);
  const password = (role: StaffRole) => `correct horse ${role} ${odsCode}`;
  // scrypt is slow on purpose: the three hashes at once, on libuv's threads
  const hashes = await Promise.all(roles.map((role) => hashPassword(password(role))));
  const staff = {} as Record<StaffRole, SeededStaff>;
  for (const [index, role] of roles.entries()) {
    const email = `${role}@${odsCode.toLowerCase()}.example.org`;
    const name = `${role} of ${odsCode}`;
    const inserted = await pool.query<{ id: string }>(
      `INSERT INTO staff (practice_id, email, display_name, role, password_hash) VALUES ($1, $2, $3, $4, $5) RETURNING id`,
      [practiceId, email, name, role, hashes[index]],
    );
    staff[role] = { id: inserted.rows[0]!.id, email, password: password(role), role, name };
  }
  return { id: practiceId, odsCode, staff };
}

let sequence = 0;

/**
 * A request in the practice's queue, as the public form would leave it once its patient is
 * confirmed: PDS verified the number and a member of staff confirmed it, so its summary is filed
 * when it is closed. `identity: 'unconfirmed'` leaves it as intake does, owed a trace (for tests of
 * the filing gate); a request without an NHS number has nothing to confirm.
 */
export async function seedConsultation(
  pool: pg.Pool,
  practiceId: string,
  overrides: {
    kind?: 'medical' | 'admin';
    nhsNumber?: string | null;
    identity?: 'confirmed' | 'unconfirmed';
  } = {},
): Promise<string> {
  sequence++;
  const nhsNumber = overrides.nhsNumber === undefined ? '9434765919' : overrides.nhsNumber;
  const confirmed = nhsNumber !== null && overrides.identity !== 'unconfirmed';
  const { rows } = await pool.query<{ id: string }>(
    `WITH inserted AS (
       INSERT INTO consultation (practice_id, reference, kind, patient_given_name, patient_family_name, patient_birth_date,
         patient_nhs_number, identity_status, identity_confirmed_at, identity_confirmed_nhs_number)
       VALUES ($1, $2, $3, 'Pat', 'Example', '1980-02-03', $4::text,
         CASE WHEN $4::text IS NULL THEN 'no_nhs_number' WHEN $5 THEN 'verified' ELSE 'tracing' END,
         CASE WHEN $5 THEN now() END, CASE WHEN $5 THEN $4::text END)
       RETURNING id, identity_status
     ), traced AS (
       INSERT INTO patient_trace (consultation_id, practice_id) SELECT id, $1 FROM inserted WHERE identity_status = 'tracing'
     )
     SELECT id FROM inserted`,
    [
      practiceId,
      `GPC-T${String(sequence).padStart(5, '0')}${Math.floor(Math.random() * 1e4)}`,
      overrides.kind ?? 'medical',
      nhsNumber,
      confirmed,
    ],
  );
  return rows[0]!.id;
}

/**
 * Closes a request as a clinician's close leaves it, with its write-back pending, straight in the
 * database: as if the job never reached the queue. `pendingForSeconds` backdates the write-back.
 * The patient is confirmed for the request's NHS number (the filing gate's condition) unless
 * `confirmIdentity` is false: a pending write-back the gate should never have let through.
 */
export async function closeWithPendingWriteBack(
  pool: pg.Pool,
  consultationId: string,
  practice: SeededPractice,
  pendingForSeconds = 0,
  options: { confirmIdentity?: boolean } = {},
): Promise<void> {
  if (options.confirmIdentity ?? true) {
    await pool.query(
      `UPDATE consultation SET identity_status = 'verified', identity_confirmed_at = now(),
         identity_confirmed_nhs_number = patient_nhs_number WHERE id = $1 AND patient_nhs_number IS NOT NULL`,
      [consultationId],
    );
  }
  await pool.query(
    `UPDATE consultation SET status = 'closed', closed_at = now(), closed_by = $2, outcome_code = '11429006',
       outcome_display = 'Consultation', summary = 'Seen.' WHERE id = $1`,
    [consultationId, practice.staff.clinician.id],
  );
  // the close freezes what was shown; the write-back files that version
  const version = await freezeSummaryVersion(pool, practice.id, consultationId);
  await pool.query(
    `INSERT INTO write_back (consultation_id, practice_id, status, updated_at, summary_version_id)
     VALUES ($1, $2, 'pending', now() - make_interval(secs => $3), $4)`,
    [consultationId, practice.id, pendingForSeconds, version.id],
  );
}

type Answer = { valueBoolean?: boolean; valueString?: string; valueCoding?: { code: string } };

/** A complete response to the default medical form: nothing urgent, unless `changes` says otherwise. */
export function medicalAnswers(changes: Record<string, Answer> = {}, problem = 'A cough for three weeks') {
  const answers: Record<string, Answer> = {
    'chest-pain': { valueBoolean: false },
    breathing: { valueBoolean: false },
    stroke: { valueBoolean: false },
    suicidal: { valueBoolean: false },
    topic: { valueCoding: { code: 'other' } },
    problem: { valueString: problem },
    duration: { valueCoding: { code: 'weeks' } },
    'getting-worse': { valueCoding: { code: 'no' } },
    ...changes,
  };
  return {
    resourceType: 'QuestionnaireResponse' as const,
    status: 'completed' as const,
    item: Object.entries(answers).map(([linkId, answer]) => ({ linkId, answer: [answer] })),
  };
}

/**
 * A request on one of the practice's free-text forms (`details`), as the public form sends it, from
 * Pat Example who prefers email; `patient` adds to or changes the patient's details.
 */
export function freeTextSubmission(
  formId: string,
  details: string,
  extra: { patient?: Record<string, string>; attachments?: { key: string }[] } = {},
) {
  return {
    idempotencyKey: randomUUID(),
    formId,
    patient: {
      givenName: 'Pat',
      familyName: 'Example',
      birthDate: '1980-02-03',
      email: 'pat@example.org',
      ...extra.patient,
    },
    submittedBy: { type: 'patient' },
    preferredContact: 'email',
    answers: {
      resourceType: 'QuestionnaireResponse',
      status: 'completed',
      item: [{ linkId: 'details', answer: [{ valueString: details }] }],
    },
    ...(extra.attachments ? { attachments: extra.attachments } : {}),
  };
}

/** The claims triage's sign-in puts in an access token for the practice's seeded member of that role. */
export function staffClaims(practice: SeededPractice, role: StaffRole): StaffTokenClaims {
  const staff = practice.staff[role];
  return { typ: 'staff', sub: staff.id, practiceId: practice.id, role, name: staff.name };
}
