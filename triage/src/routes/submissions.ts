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

      const client = await deps.pool.connect().catch((error: unknown) => {
        throw new AppError(
          'unavailable',
          'We could not send your request just now. Please try again in a few minutes.',
          { cause: error },
        );
      });
      try {
        await client.query('BEGIN');
        const practice = (
          await client.query<PracticeRow>(
            'SELECT id, timezone, opening_hours, daily_capacity FROM practice WHERE ods_code = $1',
            [request.params.ods.toUpperCase()],
          )
        ).rows[0];
        if (!practice) throw new AppError('notFound', 'No practice with that code uses this service');

        const earlier = await client.query<{ reference: string }>(
          'SELECT reference FROM consultation WHERE practice_id = $1 AND idempotency_key = $2',
          [practice.id, body.idempotencyKey],
        );
        if (earlier.rows[0]) {
          await client.query('ROLLBACK');
          return reply.code(200).send({ reference: earlier.rows[0].reference, duplicate: true });
        }
        const form = (
          await client.query<{
            id: string;
            kind: 'medical' | 'admin';
            slug: string;
            resource: Questionnaire;
          }>(
            'SELECT id, kind, slug, resource FROM questionnaire WHERE id = $1 AND practice_id = $2 AND active',
            [body.formId, practice.id],
          )
        ).rows[0];
        if (!form) throw new AppError('badRequest', 'formId is not one of this practice’s forms');
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
          await deps.pool.query(
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
        const reference = newReference();
        const inserted = await client.query<{ id: string; reference: string }>(
          `INSERT INTO consultation (practice_id, reference, kind, patient_given_name, patient_family_name, patient_birth_date,
             patient_nhs_number, questionnaire_response, idempotency_key, submitted_by, proxy_name, proxy_relationship,
             contact_phone, contact_email, preferred_contact, preferred_times, created_at, updated_at, questionnaire_id)
           VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $17, $18)
           ON CONFLICT (practice_id, idempotency_key) DO NOTHING
           RETURNING id, reference`,
          [
            practice.id,
            reference,
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
          ],
        );
        const row = inserted.rows[0];
        if (!row) {
          // the same key committed by a concurrent retry a moment ago
          await client.query('ROLLBACK');
          const first = await deps.pool.query<{ reference: string }>(
            'SELECT reference FROM consultation WHERE practice_id = $1 AND idempotency_key = $2',
            [practice.id, body.idempotencyKey],
          );
          return reply.code(200).send({ reference: first.rows[0]?.reference ?? '', duplicate: true });
        }
        // counted last, so the practice-day row is locked only until the commit that follows
        const counted = await client.query(
          `INSERT INTO practice_daily_submissions AS d (practice_id, day, submitted) VALUES ($1, $2, 1)
           ON CONFLICT (practice_id, day) DO UPDATE SET submitted = d.submitted + 1 WHERE d.submitted < $3
           RETURNING submitted`,
          [practice.id, localDate(practice.timezone, now), practice.daily_capacity],
        );
        if (counted.rowCount === 0 || practice.daily_capacity === 0) {
          throw new AppError(
            'capacityReached',
            'Your GP surgery cannot take more online requests today. Please try again tomorrow, or call the surgery.',
          );
        }
        // care navigation: the practice's first matching rule assigns the request as it arrives
        await client.query(
          `UPDATE consultation c SET assigned_to = r.assign_to, priority = COALESCE(r.set_priority, c.priority)
             FROM (SELECT assign_to, set_priority FROM navigation_rule
                    WHERE practice_id = $1 AND (match_kind IS NULL OR match_kind = $2) AND (match_form_slug IS NULL OR match_form_slug = $3)
                    ORDER BY position LIMIT 1) r
            WHERE c.id = $4`,
          [practice.id, form.kind, form.slug, row.id],
        );
        for (const file of files) {
          await client.query(
            'INSERT INTO attachment (practice_id, consultation_id, s3_key, content_type, size_bytes) VALUES ($1, $2, $3, $4, $5)',
            [practice.id, row.id, file.key, file.contentType, file.size],
          );
        }
        await client.query(
          `INSERT INTO audit_event (practice_id, actor, action, entity, entity_id) VALUES ($1, 'patient-form', 'submit', 'consultation', $2)`,
          [practice.id, row.id],
        );
        await client.query('COMMIT');
        request.log.info({ consultationId: row.id, practiceId: practice.id }, 'request received');
        deps.notify(practice.id, { consultationId: row.id, change: 'created' });
        return reply.code(201).send({ reference: row.reference, duplicate: false });
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        if (error instanceof AppError) throw error;
        if (isDatabaseUnavailable(error)) {
          throw new AppError(
            'unavailable',
            'We could not send your request just now. Please try again in a few minutes.',
            { cause: error },
          );
        }
        throw error;
      } finally {
        client.release();
      }
    },
  );
}
