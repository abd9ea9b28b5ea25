import { Type, type Static } from '@sinclair/typebox';
import { OneOf } from '../schema';

/** The files a patient may attach: photos and PDFs. */
export const allowedContentTypes = [
  'image/jpeg',
  'image/png',
  'image/heic',
  'image/webp',
  'application/pdf',
] as const;
export type AllowedContentType = (typeof allowedContentTypes)[number];
export const maxAttachmentBytes = 10 * 1024 * 1024;

/** A request for permission to upload one file: its declared type and size, which the upload is bound to. */
export const UploadRequest = Type.Object(
  {
    contentType: OneOf(allowedContentTypes),
    size: Type.Integer({ minimum: 1, maximum: maxAttachmentBytes }),
  },
  { additionalProperties: false },
);
export type UploadRequest = Static<typeof UploadRequest>;

/** Permission to upload: a presigned URL and the headers the upload must send. */
export const UploadGrant = Type.Object({
  key: Type.String(),
  url: Type.String(),
  headers: Type.Record(Type.String(), Type.String()),
});
export type UploadGrant = Static<typeof UploadGrant>;

/** One of a request's attachments, with a short-lived link to read it. */
export const AttachmentView = Type.Object({
  id: Type.String(),
  contentType: Type.String(),
  size: Type.Integer(),
  url: Type.String(),
});
export type AttachmentView = Static<typeof AttachmentView>;
