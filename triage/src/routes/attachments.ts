import type { FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Type } from '@sinclair/typebox';
import type pg from 'pg';
import { AppError } from '@gpc/contracts';
import { allowedContentTypes, maxAttachmentBytes, type AttachmentStore } from '../attachments/store';
import { allowRoles } from '../auth/staff-auth';
import { ErrorBody } from '../errors';

const UploadRequest = Type.Object(
  {
    contentType: Type.Union(allowedContentTypes.map((type) => Type.Literal(type))),
    size: Type.Integer({ minimum: 1, maximum: maxAttachmentBytes }),
  },
  { additionalProperties: false },
);
const UploadGrant = Type.Object({
  key: Type.String(),
  url: Type.String(),
  headers: Type.Record(Type.String(), Type.String()),
});
const AttachmentView = Type.Object({
  id: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  url: Type.String(),
});

export function registerAttachmentRoutes(
  app: FastifyInstance,
  deps: { pool: pg.Pool; store: AttachmentStore },
): void {
  const typed = app.withTypeProvider<TypeBoxTypeProvider>();

  typed.post(
    '/practices/:ods/uploads',
    {
      config: { rateLimit: { max: 20, timeWindow: '1 minute' } },
      schema: {
        summary: 'Permission to upload one photo or document straight to storage (public)',
        params: Type.Object({ ods: Type.String({ pattern: '^[A-Za-z0-9]{3,10}$' }) }),
        body: UploadRequest,
        response: { 201: UploadGrant, 400: ErrorBody, 404: ErrorBody },
      },
    },
    async (request, reply) => {
      const { rows } = await deps.pool.query<{ id: string }>('SELECT id FROM practice WHERE ods_code = $1', [
        request.params.ods.toUpperCase(),
      ]);
      if (!rows[0]) throw new AppError('notFound', 'No practice with that code uses this service');
      const key = deps.store.newUploadKey(rows[0].id);
      const url = await deps.store.uploadUrl(key, request.body.contentType, request.body.size);
      return reply.code(201).send({ key, url, headers: { 'content-type': request.body.contentType } });
    },
  );

  typed.get(
    '/consultations/:id/attachments',
    {
      preHandler: allowRoles('admin', 'clinician', 'reception'),
      schema: {
        summary: 'A request’s attachments, with short-lived links to read them',
        params: Type.Object({ id: Type.String({ format: 'uuid' }) }),
        response: { 200: Type.Array(AttachmentView), 401: ErrorBody, 403: ErrorBody, 404: ErrorBody },
      },
    },
    async (request) => {
      const { practiceId } = request.staff;
      const found = await deps.pool.query('SELECT 1 FROM consultation WHERE id = $1 AND practice_id = $2', [
        request.params.id,
        practiceId,
      ]);
      if (found.rowCount === 0) throw new AppError('notFound', 'No such request');
      const { rows } = await deps.pool.query<{
        id: string;
        content_type: string;
        size_bytes: number;
        s3_key: string;
      }>(
        'SELECT id, content_type, size_bytes, s3_key FROM attachment WHERE consultation_id = $1 AND practice_id = $2 ORDER BY created_at',
        [request.params.id, practiceId],
      );
      return Promise.all(
        rows.map(async (row) => ({
          id: row.id,
          contentType: row.content_type,
          size: row.size_bytes,
          url: await deps.store.downloadUrl(row.s3_key),
        })),
      );
    },
  );
}
