import { randomInt } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import { AppError, isValidNhsNumber } from '@gpc/contracts';
import type { Questionnaire } from '@medplum/fhirtypes';
import { verifyUploads, type AttachmentStore } from '../attachments/store';
import { ErrorBody } from '../errors';
import { redFlagsRaised, responseProblems } from '../forms/red-flags';
import type { QueueChange } from '../live';
import { isOpen, localDate, type OpeningHours } from '../practice-hours';

const Name = Type.String({ minLength: 1, maxLength: 100, pattern: '\\S' });
const Submission = Type.Object(
  {
    /** Made by the form once per request: a retry or a double click sends the same key. */
    idempotencyKey: Type.String({ format: 'uuid' }),
    /** The practice's form (Questionnaire) the answers are to. */
    formId: Type.String({ format: 'uuid' }),
    patient: Type.Object(
      {
        givenName: Name,
        familyName: Name,
        birthDate: Type.String({ format: 'date' }),
        nhsNumber: Type.Optional(Type.String({ pattern: '^[0-9 ]{10,12}$' })),
        phone: Type.Optional(Type.String({ pattern: '^\\+?[0-9 ()-]{7,20}$' })),
        email: Type.Optional(Type.String({ format: 'email', maxLength: 254 })),
      },
      { additionalProperties: false },
    ),
    submittedBy: Type.Union([
      Type.Object({ type: Type.Literal('patient') }, { additionalProperties: false }),
      Type.Object(
        {
          type: Type.Literal('proxy'),
          name: Name,
          relationship: Type.String({ minLength: 1, maxLength: 100 }),
        },
        { additionalProperties: false },
      ),
    ]),
    preferredContact: Type.Union([Type.Literal('phone'), Type.Literal('sms'), Type.Literal('email')]),
    preferredTimes: Type.Optional(Type.String({ maxLength: 200 })),
    /** Files already uploaded with keys from /practices/:ods/uploads. */
    attachments: Type.Optional(
      Type.Array(
        Type.Object(
          { key: Type.String({ pattern: '^uploads/[0-9a-f-]{36}/[0-9a-f-]{36}$' }) },
          { additionalProperties: false },
        ),
        {
          maxItems: 5,
        },
      ),
    ),
    /** The answers, as a FHIR QuestionnaireResponse. */
    answers: Type.Object(
      {
        resourceType: Type.Literal('QuestionnaireResponse'),
        status: Type.Literal('completed'),
        questionnaire: Type.Optional(Type.String({ maxLength: 500 })),
        item: Type.Array(
          Type.Object(
            { linkId: Type.String({ minLength: 1, maxLength: 100 }) },
            { additionalProperties: true },
          ),
          {
            minItems: 1,
            maxItems: 200,
          },
        ),
      },
      { additionalProperties: false },
    ),
  },
  { additionalProperties: false },
);
const Receipt = Type.Object({ reference: Type.String(), duplicate: Type.Boolean() });

// no 0/O or 1/I, which read alike over the phone
const referenceAlphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const newReference = () =>
  `GPC-${Array.from({ length: 8 }, () => referenceAlphabet[randomInt(referenceAlphabet.length)]).join('')}`;

/** pg errors that mean the database could not be reached or went away: the patient should retry. */
function isDatabaseUnavailable(error: unknown): boolean {
  const code = (error as { code?: string }).code ?? '';
  return (
    [
      'ECONNREFUSED',
      'ECONNRESET',
      'ETIMEDOUT',
      '57P01',
      '57P02',
      '57P03',
      '08000',
      '08003',
      '08006',
    ].includes(code) ||
    /Connection terminated|timeout exceeded when trying to connect/i.test((error as Error).message ?? '')
  );
}

interface PracticeRow {
  id: string;
  timezone: string;
  opening_hours: OpeningHours;
  daily_capacity: number;
}

export interface SubmissionRoutesDeps {
  pool: pg.Pool;
  /** Where attachments were uploaded; without it, requests cannot carry attachments. */
  attachments?: AttachmentStore;
  now: () => Date;
  notify: (practiceId: string, change: QueueChange) => void;
}

/**
 * The public form's endpoint. A request is acknowledged only once it, its answers and its audit
 * event are committed together; if anything fails, nothing is half-written and the patient is
 * told to try again.
 */
export function registerSubmissionRoutes(app: FastifyInstance, deps: SubmissionRoutesDeps): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();
  typed.post(
    '/practices/:ods/submissions',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'Send a request to the practice (public)',
        params: Type.Object({ ods: Type.String({ pattern: '^[A-Za-z0-9]{3,10}$' }) }),
        body: Submission,
        response: {
          200: Receipt,
          201: Receipt,
          400: ErrorBody,
          404: ErrorBody,
          409: ErrorBody,
          429: ErrorBody,
          503: ErrorBody,
        },
      },
    },
    async (request, reply) => {
      const body = request.body;
      const nhsNumber = body.patient.nhsNumber?.replace(/\s+/g, '');
      if (nhsNumber !== undefined && !isValidNhsNumber(nhsNumber)) {
        throw new AppError('badRequest', 'The NHS number is not valid: check it, or leave it out');
      }
      const now = deps.now();
      const birth = new Date(`${body.patient.birthDate}T00:00:00Z`);
      if (Number.isNaN(birth.getTime()) || birth > now || birth.getUTCFullYear() < 1900) {
        throw new AppError('badRequest', 'The date of birth is not valid');
      }
      if ((body.preferredContact === 'phone' || body.preferredContact === 'sms') && !body.patient.phone) {
        throw new AppError('badRequest', 'Give a phone number to be contacted by phone or text message');
      }
      if (body.preferredContact === 'email' && !body.patient.email) {
        throw new AppError('badRequest', 'Give an email address to be contacted by email');
      }

      const unavailable = (cause: unknown) =>
        new AppError(
          'unavailable',
          'We could not send your request just now. Please try again in a few minutes.',
          {
            cause,
          },
        );
      const query = <R extends pg.QueryResultRow>(text: string, values: unknown[]) =>
        deps.pool.query<R>(text, values).catch((error: unknown) => {
          throw isDatabaseUnavailable(error) ? unavailable(error) : error;
        });

      // one round trip for everything the checks need: the practice, the form, an earlier send of this request
      const found = (
        await query<
          PracticeRow & {
            form_id: string | null;
            kind: 'medical' | 'admin';
            slug: string;
            resource: Questionnaire;
            earlier_reference: string | null;
          }
        >(
          `SELECT p.id, p.timezone, p.opening_hours, p.daily_capacity, q.id AS form_id, q.kind, q.slug, q.resource,
                  (SELECT reference FROM consultation WHERE practice_id = p.id AND idempotency_key = $3) AS earlier_reference
             FROM practice p LEFT JOIN questionnaire q ON q.id = $2 AND q.practice_id = p.id AND q.active
            WHERE p.ods_code = $1`,
          [request.params.ods.toUpperCase(), body.formId, body.idempotencyKey],
        )
      ).rows[0];
      if (!found) throw new AppError('notFound', 'No practice with that code uses this service');
      if (found.earlier_reference) {
        return reply.code(200).send({ reference: found.earlier_reference, duplicate: true });
      }
      const practice = found;
      if (!found.form_id) throw new AppError('badRequest', 'formId is not one of this practice’s forms');
      const form = { id: found.form_id, kind: found.kind, slug: found.slug, resource: found.resource };
      // the form is checked here as well as in the page: no client may skip a required (urgent) question
      const problems = responseProblems(form.resource, body.answers);
      if (problems.length > 0)
        throw new AppError(
          'badRequest',
          `The answers do not fit the form: ${problems.slice(0, 3).join('; ')}`,
        );
      // urgent answers stop the request whatever the hour: the patient needs 999 or 111, not a queue
      const [redFlag] = redFlagsRaised(form.resource, body.answers);
      if (redFlag) {
        await query(
          'INSERT INTO red_flag_event (practice_id, questionnaire_id, link_id) VALUES ($1, $2, $3)',
          [practice.id, form.id, redFlag.linkId],
        );
        throw new AppError('redFlag', redFlag.advice);
      }
      // every attachment must be this practice's upload, present, and of an allowed type and size
      const files = await verifyUploads(
        deps.attachments,
        practice.id,
        (body.attachments ?? []).map(({ key }) => key),
      );
      if (!isOpen(practice.opening_hours, practice.timezone, now)) {
        throw new AppError(
          'practiceClosed',
          'Your GP surgery is not taking online requests at the moment. If you need help now, call 111.',
        );
      }
      const full = new AppError(
        'capacityReached',
        'Your GP surgery cannot take more online requests today. Please try again tomorrow, or call the surgery.',
      );
      if (practice.daily_capacity === 0) throw full;

      // one statement, so one transaction: the day's count (the practice-day row is locked only for
      // this statement, not across round trips), the request assigned by the first matching care
      // navigation rule, its files and its audit event, all or nothing
      const written = (
        await query<{ submitted: number | null; id: string | null; reference: string | null }>(
          `WITH counted AS (
             INSERT INTO practice_daily_submissions AS d (practice_id, day, submitted) VALUES ($1, $19, 1)
             ON CONFLICT (practice_id, day) DO UPDATE SET submitted = d.submitted + 1 WHERE d.submitted < $20
             RETURNING submitted
           ), rule AS (
             SELECT assign_to, set_priority FROM navigation_rule
              WHERE practice_id = $1 AND (match_kind IS NULL OR match_kind = $3) AND (match_form_slug IS NULL OR match_form_slug = $21)
              ORDER BY position LIMIT 1
           ), inserted AS (
             INSERT INTO consultation (practice_id, reference, kind, patient_given_name, patient_family_name, patient_birth_date,
               patient_nhs_number, questionnaire_response, idempotency_key, submitted_by, proxy_name, proxy_relationship,
               contact_phone, contact_email, preferred_contact, preferred_times, created_at, updated_at, questionnaire_id,
               assigned_to, priority)
             SELECT $1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18,
                    (SELECT assign_to FROM rule), COALESCE((SELECT set_priority FROM rule), 'routine')
              WHERE EXISTS (SELECT 1 FROM counted)
             ON CONFLICT (practice_id, idempotency_key) DO NOTHING
             RETURNING id, reference
           ), files AS (
             INSERT INTO attachment (practice_id, consultation_id, s3_key, content_type, size_bytes)
             SELECT $1, i.id, f.key, f.content_type, f.size_bytes
               FROM inserted i, unnest($22::text[], $23::text[], $24::int[]) AS f (key, content_type, size_bytes)
           ), audited AS (
             INSERT INTO audit_event (practice_id, actor, action, entity, entity_id)
             SELECT $1, 'patient-form', 'submit', 'consultation', id::text FROM inserted
           )
           SELECT (SELECT submitted FROM counted) AS submitted, i.id, i.reference FROM (SELECT 1) AS one LEFT JOIN inserted i ON true`,
          [
            practice.id,
            newReference(),
            form.kind,
            body.patient.givenName.trim(),
            body.patient.familyName.trim(),
            body.patient.birthDate,
            nhsNumber ?? null,
            JSON.stringify(body.answers),
            body.idempotencyKey,
            body.submittedBy.type,
            body.submittedBy.type === 'proxy' ? body.submittedBy.name : null,
            body.submittedBy.type === 'proxy' ? body.submittedBy.relationship : null,
            body.patient.phone ?? null,
            body.patient.email ?? null,
            body.preferredContact,
            body.preferredTimes ?? null,
            now,
            form.id,
            localDate(practice.timezone, now),
            practice.daily_capacity,
            form.slug,
            files.map((file) => file.key),
            files.map((file) => file.contentType),
            files.map((file) => file.size),
          ],
        )
      ).rows[0]!;
      if (written.submitted === null) throw full;
      if (!written.id || !written.reference) {
        // the same key committed by a concurrent retry a moment ago (it was counted twice: harmless)
        const first = await query<{ reference: string }>(
          'SELECT reference FROM consultation WHERE practice_id = $1 AND idempotency_key = $2',
          [practice.id, body.idempotencyKey],
        );
        return reply.code(200).send({ reference: first.rows[0]?.reference ?? '', duplicate: true });
      }
      request.log.info({ consultationId: written.id, practiceId: practice.id }, 'request received');
      deps.notify(practice.id, { consultationId: written.id, change: 'created' });
      return reply.code(201).send({ reference: written.reference, duplicate: false });
    },
  );
}
