import type { FastifyPluginAsyncTypebox, FastifyPluginCallbackTypebox } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import {
  AppError,
  AttachmentView,
  refusals,
  IdParams,
  OdsParams,
  UploadGrant,
  UploadRequest,
} from '@gpc/contracts';
import type { AttachmentStore } from '../attachments/store';
import { requireStaff } from '../auth/staff-auth';
import { listAttachments } from '../db/attachments';
import { consultationExists } from '../db/consultations';
import { findPracticeByOds } from '../db/forms';

export interface AttachmentRoutesDeps {
  pool: pg.Pool;
  store: AttachmentStore;
}

/**
 * Attachments: patients upload straight to storage with a grant (public), staff read a request's
 * files through short-lived links (signed in).
 */
export const attachmentRoutes: FastifyPluginAsyncTypebox<AttachmentRoutesDeps> = async (app, deps) => {
  app.post(
    '/practices/:ods/uploads',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'Permission to upload one photo or document straight to storage (public)',
        params: OdsParams,
        body: UploadRequest,
        response: { 201: UploadGrant, ...refusals(400, 404) },
      },
    },
    async (request, reply) => {
      const practice = await findPracticeByOds(deps.pool, request.params.ods);
      if (!practice) throw new AppError('notFound', 'No practice with that code uses this service');
      const { contentType, size } = request.body;
      const key = deps.store.newUploadKey(practice.id);
      const url = await deps.store.uploadUrl(key, contentType, size);
      return reply.code(201).send({ key, url, headers: { 'content-type': contentType } });
    },
  );

  await app.register(staffAttachmentRoutes, deps);
};

/** The signed-in side, in its own scope so that the staff guard leaves the public upload alone. */
const staffAttachmentRoutes: FastifyPluginCallbackTypebox<AttachmentRoutesDeps> = (app, deps, done) => {
  app.addHook('preHandler', requireStaff);

  app.get(
    '/consultations/:id/attachments',
    {
      schema: {
        summary: 'A request’s attachments, with short-lived links to read them',
        params: IdParams,
        response: { 200: Type.Array(AttachmentView), ...refusals(401, 403, 404) },
      },
    },
    async (request) => {
      const { practiceId } = request.staff;
      if (!(await consultationExists(deps.pool, practiceId, request.params.id)))
        throw new AppError('notFound', 'No such request');
      const attachments = await listAttachments(deps.pool, practiceId, request.params.id);
      return Promise.all(
        attachments.map(async (attachment) => ({
          id: attachment.id,
          contentType: attachment.contentType,
          size: attachment.sizeBytes,
          // the verified copy: what the patient uploaded to, they could still overwrite
          url: await deps.store.downloadUrl(attachment.verifiedKey),
        })),
      );
    },
  );
  done();
};
