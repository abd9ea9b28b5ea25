import type { Questionnaire } from '@medplum/fhirtypes';
import type { PreferredContact, SubmissionAnswers } from '@gpc/contracts';
import type { VerifiedUpload } from '../attachments/store';
import type { OpeningHours } from '../practice-hours';
import {
  availabilityColumns,
  toAvailabilityInputs,
  type AvailabilityRow,
  type PracticeAvailabilityInputs,
} from './availability';
import type { Queryable } from './queryable';

/**
 * The public form's intake: what a submission is checked against, and the one statement that
 * takes it into the queue. A submission is one read and one write (a bench measured the nine round
 * trips it once was): keep it so.
 */

/** Everything the checks of a submission need, read in one round trip. */
export interface SubmissionContext {
  practice: {
    id: string;
    timezone: string;
    openingHours: OpeningHours;
    dailyCapacity: number;
    /** What the availability rule (hours/availability.ts) reads, at the submission's instant. */
    availability: PracticeAvailabilityInputs;
  };
  /** The practice's active form the answers are to; undefined when it is not one. */
  form: { id: string; kind: 'medical' | 'admin'; slug: string; resource: Questionnaire } | undefined;
  /** The reference of an earlier send of this same request (same idempotency key), if any. */
  earlierReference: string | null;
}

/** The practice, the form and any earlier send of the request; undefined when no practice has the code. */
export async function findSubmissionContext(
  db: Queryable,
  submission: { odsCode: string; formId: string; idempotencyKey: string; now: Date },
): Promise<SubmissionContext | undefined> {
  const { rows } = await db.query<
    AvailabilityRow & {
      id: string;
      timezone: string;
      opening_hours: OpeningHours;
      daily_capacity: number;
      form_id: string | null;
      kind: 'medical' | 'admin';
      slug: string;
      resource: Questionnaire;
      earlier_reference: string | null;
    }
  >(
    `SELECT p.id, ${availabilityColumns('$4')}, q.id AS form_id, q.kind, q.slug, q.resource,
            (SELECT reference FROM consultation WHERE practice_id = p.id AND idempotency_key = $3) AS earlier_reference
       FROM practice p LEFT JOIN questionnaire q ON q.id = $2 AND q.practice_id = p.id AND q.active
      WHERE p.ods_code = $1`,
    [submission.odsCode.toUpperCase(), submission.formId, submission.idempotencyKey, submission.now],
  );
  const row = rows[0];
  if (!row) return undefined;
  return {
    practice: {
      id: row.id,
      timezone: row.timezone,
      openingHours: row.opening_hours,
      dailyCapacity: row.daily_capacity,
      availability: toAvailabilityInputs(row),
    },
    form: row.form_id
      ? { id: row.form_id, kind: row.kind, slug: row.slug, resource: row.resource }
      : undefined,
    earlierReference: row.earlier_reference,
  };
}

/** Records that a submission was stopped by an urgent answer (the question only, no patient details). */
export async function insertRedFlagEvent(
  db: Queryable,
  event: { practiceId: string; formId: string; linkId: string; level: 'emergency' | 'urgent' },
): Promise<void> {
  await db.query(
    'INSERT INTO red_flag_event (practice_id, questionnaire_id, link_id, level) VALUES ($1, $2, $3, $4)',
    [event.practiceId, event.formId, event.linkId, event.level],
  );
}

/** A checked submission, as the intake statement takes it. */
export interface NewSubmission {
  practiceId: string;
  reference: string;
  form: { id: string; kind: 'medical' | 'admin'; slug: string };
  patient: { givenName: string; familyName: string; birthDate: string; nhsNumber: string | null };
  answers: SubmissionAnswers;
  idempotencyKey: string;
  submittedBy: { type: 'patient' | 'proxy'; proxyName: string | null; proxyRelationship: string | null };
  contact: { phone: string | null; email: string | null; preferred: PreferredContact; times: string | null };
  submittedAt: Date;
  /** The practice's calendar date of the submission: the day whose count it joins. */
  day: string;
  /** Requests the day takes before the form refuses more; null when it may refuse none (core hours). */
  dailyCapacity: number | null;
  files: readonly VerifiedUpload[];
  /** Where the patient's details came from, and what is known of them at intake. */
  identity: SubmissionIdentity;
  /** A priority that overrides care navigation's (an urgent red flag sent anyway); null otherwise. */
  priorityOverride: 'urgent' | null;
  /** The practice's date the patient was told to expect a reply by; null when not said. */
  replyBy: string | null;
  /** The urgent red-flag question the patient sent past ("send anyway"); null when none. */
  urgentRedFlag: string | null;
}

/**
 * The patient's identity as intake records it. A request with an NHS number and status `tracing`
 * is owed a trace (a `patient_trace` row, in the same statement). `confirmedNhsNumber` is set only
 * when identity arrives confirmed (NHS login at P9): the request may then be filed without a match step.
 */
export interface SubmissionIdentity {
  source: 'form' | 'nhs_login';
  proofingLevel: 'P0' | 'P5' | 'P9' | null;
  status: 'tracing' | 'no_nhs_number' | 'nhs_login_p9';
  confirmedNhsNumber: string | null;
}

/**
 * What the intake statement did: `counted` false when the day is full (nothing written); `created`
 * undefined when a concurrent retry with the same key committed first.
 */
export interface SubmissionWritten {
  counted: boolean;
  created: { id: string; reference: string } | undefined;
}

// $1 practice, $2–$18 the request's fields, $19–$20 the day and its capacity (null: no limit), $21 the
// form's slug (navigation rules), $22–$24 its files as arrays, $25–$28 identity (source, proofing
// level, status, confirmed NHS number), $29 a priority overriding navigation's, $30–$31 the files'
// verified copies and their sha256 (same order as $22–$24), $32 the date a reply was promised by,
// $33 the urgent red flag the patient sent anyway (its question's linkId)
const insertSubmissionSql = `WITH counted AS (
     INSERT INTO practice_daily_submissions AS d (practice_id, day, submitted) VALUES ($1, $19, 1)
     ON CONFLICT (practice_id, day) DO UPDATE SET submitted = d.submitted + 1
      WHERE $20::int IS NULL OR d.submitted < $20
     RETURNING submitted
   ), rule AS (
     SELECT assign_to, set_priority FROM navigation_rule
      WHERE practice_id = $1 AND (match_kind IS NULL OR match_kind = $3) AND (match_form_slug IS NULL OR match_form_slug = $21)
      ORDER BY position LIMIT 1
   ), inserted AS (
     INSERT INTO consultation (practice_id, reference, kind, patient_given_name, patient_family_name, patient_birth_date,
       patient_nhs_number, questionnaire_response, idempotency_key, submitted_by, proxy_name, proxy_relationship,
       contact_phone, contact_email, preferred_contact, preferred_times, created_at, updated_at, questionnaire_id,
       assigned_to, priority, identity_source, identity_proofing_level, identity_status, identity_confirmed_nhs_number,
       identity_confirmed_at, reply_by, red_flag)
     SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18,
            (SELECT assign_to FROM rule), COALESCE($29, (SELECT set_priority FROM rule), 'routine'),
            $25, $26, $27, $28::text, CASE WHEN $28::text IS NULL THEN NULL ELSE $17::timestamptz END,
            $32::date, CASE WHEN $33::text IS NULL THEN NULL ELSE 'urgent' END
      WHERE EXISTS (SELECT 1 FROM counted)
     ON CONFLICT (practice_id, idempotency_key) DO NOTHING
     RETURNING id, reference, identity_status
   ), traced AS (
     INSERT INTO patient_trace (consultation_id, practice_id, next_attempt_at)
     SELECT id, $1, $17 FROM inserted WHERE identity_status = 'tracing'
   ), files AS (
     INSERT INTO attachment (practice_id, consultation_id, s3_key, content_type, size_bytes, verified_key, sha256)
     SELECT $1, i.id, f.key, f.content_type, f.size_bytes, f.verified_key, f.sha256
       FROM inserted i, unnest($22::text[], $23::text[], $24::int[], $30::text[], $31::text[])
                          AS f (key, content_type, size_bytes, verified_key, sha256)
   ), audited AS (
     INSERT INTO audit_event (practice_id, actor, action, entity, entity_id)
     SELECT $1, 'patient-form', 'submit', 'consultation', id::text FROM inserted
   ), flagged AS (
     INSERT INTO red_flag_event (practice_id, questionnaire_id, link_id, level, consultation_id)
     SELECT $1, $18, $33, 'urgent', id FROM inserted WHERE $33::text IS NOT NULL
   )
   SELECT (SELECT submitted FROM counted) AS submitted, i.id, i.reference FROM (SELECT 1) AS one LEFT JOIN inserted i ON true`;

/**
 * Takes a submission into the queue in one statement, so one transaction: the day's count (the
 * practice-day row is locked only for this statement, not across round trips), the request
 * assigned by the first matching care navigation rule, its files and its audit event, all or
 * nothing. The audit row stays in the statement (not `recordAudit`) to keep it one round trip.
 */
export async function insertSubmission(db: Queryable, submission: NewSubmission): Promise<SubmissionWritten> {
  const { rows } = await db.query<{ submitted: number | null; id: string | null; reference: string | null }>(
    insertSubmissionSql,
    [
      submission.practiceId,
      submission.reference,
      submission.form.kind,
      submission.patient.givenName,
      submission.patient.familyName,
      submission.patient.birthDate,
      submission.patient.nhsNumber,
      JSON.stringify(submission.answers),
      submission.idempotencyKey,
      submission.submittedBy.type,
      submission.submittedBy.proxyName,
      submission.submittedBy.proxyRelationship,
      submission.contact.phone,
      submission.contact.email,
      submission.contact.preferred,
      submission.contact.times,
      submission.submittedAt,
      submission.form.id,
      submission.day,
      submission.dailyCapacity,
      submission.form.slug,
      submission.files.map((file) => file.key),
      submission.files.map((file) => file.contentType),
      submission.files.map((file) => file.size),
      submission.identity.source,
      submission.identity.proofingLevel,
      submission.identity.status,
      submission.identity.confirmedNhsNumber,
      submission.priorityOverride,
      submission.files.map((file) => file.verifiedKey),
      submission.files.map((file) => file.sha256),
      submission.replyBy,
      submission.urgentRedFlag,
    ],
  );
  const row = rows[0]!;
  return {
    counted: row.submitted !== null,
    created: row.id && row.reference ? { id: row.id, reference: row.reference } : undefined,
  };
}

/** The reference of the practice's request sent with this idempotency key, if any. */
export async function findReferenceByIdempotencyKey(
  db: Queryable,
  practiceId: string,
  idempotencyKey: string,
): Promise<string | undefined> {
  const { rows } = await db.query<{ reference: string }>(
    'SELECT reference FROM consultation WHERE practice_id = $1 AND idempotency_key = $2',
    [practiceId, idempotencyKey],
  );
  return rows[0]?.reference;
}
