import { randomInt } from 'node:crypto';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import {
  AppError,
  refusals,
  isValidNhsNumber,
  OdsParams,
  SubmissionBody,
  SubmissionReceipt,
  type SubmissionAnswers,
} from '@gpc/contracts';
import { verifyUploads, type AttachmentStore, type VerifiedUpload } from '../attachments/store';
import {
  findReferenceByIdempotencyKey,
  findSubmissionContext,
  insertRedFlagEvent,
  insertSubmission,
  type NewSubmission,
  type SubmissionContext,
} from '../db/submissions';
import { redFlagOutcome, redFlagsRaised, responseProblems, type RedFlag } from '../forms/red-flags';
import { availabilityAt, dailyLimit, type Availability } from '../hours/availability';
import type { QueueChange } from '../live';
import { intakeWithNhsLogin, withNhsLoginIdentity } from '../nhs-login/sessions';
import { localDate } from '../practice-hours';
import { isDatabaseUnavailable } from '../db/unavailable';

// no 0/O or 1/I, which read alike over the phone
const referenceAlphabet = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const newReference = () =>
  `GPC-${Array.from({ length: 8 }, () => referenceAlphabet[randomInt(referenceAlphabet.length)]).join('')}`;

export interface SubmissionRoutesDeps {
  pool: pg.Pool;
  /** Where attachments were uploaded; without it, requests cannot carry attachments. */
  attachments?: AttachmentStore;
  now: () => Date;
  notify: (practiceId: string, change: QueueChange) => void;
  /** Queues the new request's patient trace against PDS (absent: tracing is off). */
  queueTrace?: (consultationId: string) => Promise<void>;
}

/**
 * The public form's endpoint, under `/practices` (no sign-in). A request is acknowledged only once
 * it, its answers and its audit event are committed together; if anything fails, nothing is
 * half-written and the patient is told to try again.
 */
export const submissionRoutes: FastifyPluginCallbackTypebox<SubmissionRoutesDeps> = (app, deps, done) => {
  app.post(
    '/:ods/submissions',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'Send a request to the practice (public)',
        params: OdsParams,
        body: SubmissionBody,
        response: {
          200: SubmissionReceipt,
          201: SubmissionReceipt,
          ...refusals(400, 404, 409, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const received = await receiveSubmission(deps, request.params.ods, request.body);
      if (!received.createdId)
        return reply.code(200).send({ reference: received.reference, duplicate: true });
      request.log.info(
        { consultationId: received.createdId, practiceId: received.practiceId },
        'request received',
      );
      deps.notify(received.practiceId, { consultationId: received.createdId, change: 'created' });
      // after the commit, never awaited: a queue that cannot take it now leaves the trace owed for the sweep
      deps.queueTrace?.(received.createdId).catch((error: unknown) => {
        request.log.warn(
          { err: error, consultationId: received.createdId },
          'could not queue the trace; the sweep will',
        );
      });
      return reply.code(201).send({ reference: received.reference, duplicate: false });
    },
  );
  done();
};

/** A submission taken in, or found to repeat one taken in already (same idempotency key). */
interface Received {
  practiceId: string;
  reference: string;
  /** The new request's id; absent for a repeat. */
  createdId?: string;
}

/** Checks the submission, then takes it into the practice's queue in one statement. */
async function receiveSubmission(
  deps: SubmissionRoutesDeps,
  odsCode: string,
  body: SubmissionBody,
): Promise<Received> {
  const now = deps.now();
  const nhsNumber = checkPatientDetails(body, now);
  const { formId, idempotencyKey } = body;
  const context = await orUnavailable(
    findSubmissionContext(deps.pool, { odsCode, formId, idempotencyKey, now }),
  );
  if (!context) throw new AppError('notFound', 'No practice with that code uses this service');
  const practiceId = context.practice.id;
  if (context.earlierReference) return { practiceId, reference: context.earlierReference };
  const { form, urgentRedFlag } = await checkAnswers(deps.pool, context, body);
  // every attachment must be this practice's upload, present, and of an allowed type and size
  const keys = (body.attachments ?? []).map(({ key }) => key);
  const files = await verifyUploads(deps.attachments, practiceId, keys);
  const availability = checkTakingRequests(context.practice, now);
  const submission = toNewSubmission(body, {
    context,
    form,
    nhsNumber,
    files,
    now,
    availability,
    urgentRedFlag,
  });
  const session = body.nhsLoginSession;
  const written = await orUnavailable(
    session === undefined
      ? insertSubmission(deps.pool, submission)
      : intakeWithNhsLogin(deps.pool, { token: session, practiceId, idempotencyKey, now }, (db, identity) =>
          insertSubmission(db, withNhsLoginIdentity(submission, identity)),
        ),
  );
  if (!written.counted) throw capacityReached();
  if (written.created)
    return { practiceId, reference: written.created.reference, createdId: written.created.id };
  // the same key committed by a concurrent retry a moment ago (it was counted twice: harmless)
  const first = await orUnavailable(findReferenceByIdempotencyKey(deps.pool, practiceId, idempotencyKey));
  return { practiceId, reference: first ?? '' };
}

/**
 * Checks what the schema cannot: the NHS number's checksum, a real date of birth, a way to be
 * contacted. The NHS number, without spaces, when given.
 */
function checkPatientDetails(body: SubmissionBody, now: Date): string | undefined {
  // with an NHS login session the name, date of birth and NHS number are NHS login's: those typed are ignored
  const typed = body.nhsLoginSession === undefined;
  const nhsNumber = typed ? body.patient.nhsNumber?.replace(/\s+/g, '') : undefined;
  if (nhsNumber !== undefined && !isValidNhsNumber(nhsNumber)) {
    throw new AppError('badRequest', 'The NHS number is not valid: check it, or leave it out');
  }
  const birth = new Date(`${body.patient.birthDate}T00:00:00Z`);
  if (typed && (Number.isNaN(birth.getTime()) || birth > now || birth.getUTCFullYear() < 1900)) {
    throw new AppError('badRequest', 'The date of birth is not valid');
  }
  if ((body.preferredContact === 'phone' || body.preferredContact === 'sms') && !body.patient.phone) {
    throw new AppError('badRequest', 'Give a phone number to be contacted by phone or text message');
  }
  if (body.preferredContact === 'email' && !body.patient.email) {
    throw new AppError('badRequest', 'Give an email address to be contacted by email');
  }
  return nhsNumber;
}

/**
 * The answers must fit the practice's form; checked here as well as in the page, so no client may
 * skip a required (urgent) question. An emergency answer stops the request whatever the hour, and is
 * recorded: the patient needs 999, not a queue. An urgent answer (111 or the practice now) is refused
 * with its advice unless the patient chose to send anyway; then the request goes, marked urgent.
 */
async function checkAnswers(
  pool: pg.Pool,
  context: SubmissionContext,
  body: Pick<SubmissionBody, 'answers' | 'urgentSendAnyway'>,
): Promise<{ form: NonNullable<SubmissionContext['form']>; urgentRedFlag: RedFlag | undefined }> {
  const answers: SubmissionAnswers = body.answers;
  const form = context.form;
  if (!form) throw new AppError('badRequest', 'formId is not one of this practice’s forms');
  const problems = responseProblems(form.resource, answers);
  if (problems.length > 0)
    throw new AppError('badRequest', `The answers do not fit the form: ${problems.slice(0, 3).join('; ')}`);
  const { stop, urgent } = redFlagOutcome(redFlagsRaised(form.resource, answers));
  const refused = stop ?? (urgent && body.urgentSendAnyway !== true ? urgent : undefined);
  if (refused) {
    await orUnavailable(
      insertRedFlagEvent(pool, {
        practiceId: context.practice.id,
        formId: form.id,
        linkId: refused.linkId,
        level: refused.level,
      }),
    );
    throw new AppError(refused.level === 'emergency' ? 'redFlag' : 'urgentRedFlag', refused.advice);
  }
  return { form, urgentRedFlag: urgent };
}

/**
 * By the same rule the form is shown by (hours/availability.ts): refused while paused, when closed
 * outside hours, and (outside England) past the day's limit; in England's core hours never refused.
 * What the patient was told, when taken.
 */
function checkTakingRequests(practice: SubmissionContext['practice'], now: Date): Availability {
  const { hours, ...context } = practice.availability;
  const availability = availabilityAt(hours, now, context);
  if (availability.state === 'paused') throw new AppError('practicePaused', availability.message);
  if (availability.state === 'closed')
    throw availability.reason === 'capacity'
      ? capacityReached()
      : new AppError('practiceClosed', availability.message);
  return availability;
}

const capacityReached = () =>
  new AppError(
    'capacityReached',
    'Your GP surgery cannot take more online requests today. Please try again tomorrow, or call the surgery.',
  );

function toNewSubmission(
  body: SubmissionBody,
  checked: {
    context: SubmissionContext;
    form: NonNullable<SubmissionContext['form']>;
    nhsNumber: string | undefined;
    files: VerifiedUpload[];
    now: Date;
    availability: Availability;
    urgentRedFlag: RedFlag | undefined;
  },
): NewSubmission {
  const { practice } = checked.context;
  const proxy = body.submittedBy.type === 'proxy' ? body.submittedBy : undefined;
  return {
    practiceId: practice.id,
    reference: newReference(),
    form: checked.form,
    patient: {
      givenName: body.patient.givenName.trim(),
      familyName: body.patient.familyName.trim(),
      birthDate: body.patient.birthDate,
      nhsNumber: checked.nhsNumber ?? null,
    },
    answers: body.answers,
    idempotencyKey: body.idempotencyKey,
    submittedBy: {
      type: body.submittedBy.type,
      proxyName: proxy?.name ?? null,
      proxyRelationship: proxy?.relationship ?? null,
    },
    contact: {
      phone: body.patient.phone ?? null,
      email: body.patient.email ?? null,
      preferred: body.preferredContact,
      times: body.preferredTimes ?? null,
    },
    submittedAt: checked.now,
    day: localDate(practice.timezone, checked.now),
    dailyCapacity: dailyLimit(practice.availability.hours),
    files: checked.files,
    identity: {
      source: 'form',
      proofingLevel: null,
      status: checked.nhsNumber ? 'tracing' : 'no_nhs_number',
      confirmedNhsNumber: null,
    },
    priorityOverride: checked.urgentRedFlag ? 'urgent' : null,
    replyBy: 'replyBy' in checked.availability ? checked.availability.replyBy : null,
    urgentRedFlag: checked.urgentRedFlag?.linkId ?? null,
  };
}

/** A database that could not be reached or went away becomes a 503 the patient is told to retry. */
async function orUnavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (error) {
    if (!isDatabaseUnavailable(error)) throw error;
    throw new AppError(
      'unavailable',
      'We could not send your request just now. Please try again in a few minutes.',
      {
        cause: error,
      },
    );
  }
}
