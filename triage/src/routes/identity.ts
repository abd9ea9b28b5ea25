import type { FastifyBaseLogger } from 'fastify';
import type { FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import type pg from 'pg';
import { AppError, IdentityView, IdParams, refusals, type WriteBackJob } from '@gpc/contracts';
import { resumeAfterPatientMatch } from '@gpc/record/write-back';
import { requireStaff } from '../auth/staff-auth';
import { recordAudit } from '../db/audit';
import { confirmIdentity, findIdentity, lockIdentity } from '../db/identity';
import type { Queryable } from '../db/queryable';
import { withTransaction } from '../db/transaction';
import { toIdentityView, whyNotConfirmable } from '../identity/view';
import type { QueueChange } from '../live';
import { queueWriteBackSafely } from './write-back';

export interface IdentityRoutesDeps {
  pool: pg.Pool;
  /** Queues a write-back again once the patient is confirmed, replacing a finished job. */
  requeueWriteBack: (job: WriteBackJob) => Promise<void>;
  notify: (practiceId: string, change: QueueChange) => void;
}

interface Confirmation {
  practiceId: string;
  staffId: string;
  consultationId: string;
}

const schemas = {
  confirm: {
    summary:
      "Confirm the patient: PDS verified the request's NHS number, date of birth, surname and registration here, and a clinician or admin agrees (its summary may then be filed)",
    params: IdParams,
    response: { 200: IdentityView, ...refusals(401, 403, 404, 409) },
  },
};

/**
 * Who the patient is, under `/consultations`: staff confirming a trace PDS verified, the only way a
 * form's request becomes fileable. Scoped to the practice in the caller's token.
 */
export const identityRoutes: FastifyPluginCallbackTypebox<IdentityRoutesDeps> = (app, deps, done) => {
  app.addHook('preHandler', requireStaff);
  app.post(
    '/:id/confirm-patient',
    { config: { roles: ['admin', 'clinician'] }, schema: schemas.confirm },
    (request) =>
      confirmPatient(
        deps,
        {
          practiceId: request.staff.practiceId,
          staffId: request.staff.sub,
          consultationId: request.params.id,
        },
        request.log,
      ),
  );
  done();
};

/** Confirms the patient, and releases a write-back that waited for it. */
async function confirmPatient(
  deps: IdentityRoutesDeps,
  confirmation: Confirmation,
  log: FastifyBaseLogger,
): Promise<IdentityView> {
  const released = await withTransaction(deps.pool, (client) => confirm(client, confirmation));
  const { practiceId, consultationId } = confirmation;
  if (released) await queueWriteBackSafely(deps.requeueWriteBack, { practiceId, consultationId }, log);
  deps.notify(practiceId, { consultationId, change: 'updated' });
  const state = await findIdentity(deps.pool, practiceId, consultationId);
  if (!state) throw new AppError('notFound', 'No such request');
  return toIdentityView(state);
}

/** True when a write-back waiting for a patient match was released (pending again, to be queued). */
async function confirm(client: Queryable, confirmation: Confirmation): Promise<boolean> {
  const { practiceId, consultationId, staffId } = confirmation;
  const state = await lockIdentity(client, practiceId, consultationId);
  if (!state) throw new AppError('notFound', 'No such request');
  const refusal = whyNotConfirmable(state);
  if (refusal || !state.nhsNumber)
    throw new AppError('conflict', refusal ?? 'This request has no NHS number');
  if (!(await confirmIdentity(client, { practiceId, consultationId, staffId, nhsNumber: state.nhsNumber })))
    throw new AppError('conflict', 'The patient could not be confirmed: reload the request');
  await recordAudit(client, {
    practiceId,
    actor: staffId,
    action: 'confirm patient',
    entity: 'consultation',
    entityId: consultationId,
  });
  if (state.writeBackStatus !== 'needs_patient_match') return false;
  return resumeAfterPatientMatch(client, consultationId);
}
