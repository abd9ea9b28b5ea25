import { createHash, randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { fileTypeFromBuffer } from 'file-type';
import sharp from 'sharp';
import {
  AppError,
  allowedContentTypes,
  maxAttachmentBytes,
  type AllowedContentType,
  type S3Settings,
} from '@gpc/contracts';
// the upload rules are the REST contract's (the pages and this store agree); S3 settings are record's too

export interface StoredObject {
  contentType: string | undefined;
  size: number;
}

/**
 * Attachments in S3: patients upload straight to S3 with short-lived presigned PUTs bound to the
 * type and size they declared; staff read them with short-lived presigned GETs.
 */
export class AttachmentStore {
  private readonly client: S3Client;

  constructor(private readonly settings: S3Settings) {
    this.client = new S3Client({
      region: settings.region,
      forcePathStyle: settings.forcePathStyle,
      ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
      credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
    });
  }

  /** Uploads not yet part of a request are keyed by practice, so one practice's upload never joins another's request. */
  newUploadKey(practiceId: string): string {
    return `uploads/${practiceId}/${randomUUID()}`;
  }

  uploadUrl(key: string, contentType: AllowedContentType, size: number): Promise<string> {
    // content type and length are signed: S3 refuses a PUT of another type or size
    const command = new PutObjectCommand({
      Bucket: this.settings.bucket,
      Key: key,
      ContentType: contentType,
      ContentLength: size,
    });
    return getSignedUrl(this.client, command, {
      expiresIn: 600,
      signableHeaders: new Set(['content-type', 'content-length']),
    });
  }

  /**
   * Where a checked copy goes: under `verified/`, a prefix no upload grant ever names (grants are
   * for `uploads/` keys only), so the patient can no longer change what staff see and what is filed.
   */
  newVerifiedKey(practiceId: string): string {
    return `verified/${practiceId}/${randomUUID()}`;
  }

  /** An object's bytes, as they are now. */
  async read(key: string): Promise<Buffer> {
    const object = await this.client.send(new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }));
    if (!object.Body) throw new Error('the stored object has no body');
    return Buffer.from(await object.Body.transformToByteArray());
  }

  async write(key: string, body: Buffer, contentType: string): Promise<void> {
    await this.client.send(
      new PutObjectCommand({ Bucket: this.settings.bucket, Key: key, Body: body, ContentType: contentType }),
    );
  }

  downloadUrl(key: string): Promise<string> {
    return getSignedUrl(this.client, new GetObjectCommand({ Bucket: this.settings.bucket, Key: key }), {
      expiresIn: 300,
    });
  }

  async describe(key: string): Promise<StoredObject | undefined> {
    try {
      const head = await this.client.send(new HeadObjectCommand({ Bucket: this.settings.bucket, Key: key }));
      return { contentType: head.ContentType, size: head.ContentLength ?? 0 };
    } catch (error) {
      const status = (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
      if ((error as { name?: string }).name === 'NotFound' || status === 404) return undefined;
      throw error;
    }
  }

  destroy(): void {
    this.client.destroy();
  }
}

export interface VerifiedUpload {
  /** The key the patient uploaded to (they may still write there; nobody reads it again). */
  key: string;
  /** The checked copy, under `verified/`: what staff see and the GP record files. */
  verifiedKey: string;
  /** The type the bytes are, as checked. */
  contentType: string;
  /** The copy's size and sha256 (a photo's copy is re-encoded, so it differs from the upload). */
  size: number;
  sha256: string;
}

const notArrived = () =>
  new AppError('badRequest', 'An attached file did not arrive or is not allowed: please attach it again');

/** Photos re-encoded to drop their EXIF (location, device) before anyone sees them, by type. */
const photoFormats: Partial<Record<string, 'jpeg' | 'png' | 'webp'>> = {
  'image/jpeg': 'jpeg',
  'image/png': 'png',
  'image/webp': 'webp',
};

/**
 * The uploads a request or reply names, each checked and copied: this practice's, present in
 * storage, of an allowed type and size as declared and as its bytes really are (`file-type`); a
 * photo re-encoded without its metadata (turned upright first, so orientation survives); the
 * result written under `verified/` with its sha256. Throws a patient-facing 400 otherwise.
 */
export async function verifyUploads(
  store: AttachmentStore | undefined,
  practiceId: string,
  keys: readonly string[],
): Promise<VerifiedUpload[]> {
  const verified: VerifiedUpload[] = [];
  for (const key of keys) {
    if (!store || !key.startsWith(`uploads/${practiceId}/`)) throw notArrived();
    const stored = await store.describe(key);
    const declared = (stored?.contentType ?? '') as AllowedContentType;
    if (!stored || stored.size > maxAttachmentBytes || !allowedContentTypes.includes(declared))
      throw notArrived();
    // the bytes read once: what is checked is exactly what is copied
    const bytes = await store.read(key);
    if (bytes.length === 0 || bytes.length > maxAttachmentBytes) throw notArrived();
    const copy = await checkedCopy(bytes, declared);
    const verifiedKey = store.newVerifiedKey(practiceId);
    await store.write(verifiedKey, copy.body, copy.contentType);
    verified.push({
      key,
      verifiedKey,
      contentType: copy.contentType,
      size: copy.body.length,
      sha256: createHash('sha256').update(copy.body).digest('hex'),
    });
  }
  return verified;
}

/** The bytes as they may be kept: of the type declared, and a photo without its metadata. */
async function checkedCopy(
  bytes: Buffer,
  declared: AllowedContentType,
): Promise<{ body: Buffer; contentType: string }> {
  const detected = (await fileTypeFromBuffer(bytes))?.mime;
  if (declared === 'image/heic' && (detected === 'image/heic' || detected === 'image/heif')) {
    // HEIC (HEVC) cannot be decoded here, so its location data cannot be taken out: never kept
    throw new AppError(
      'badRequest',
      'HEIC photos cannot be taken: change the photo to JPEG (on an iPhone, choose "Most Compatible" for photos) and attach it again',
    );
  }
  if (detected !== declared) {
    throw new AppError(
      'badRequest',
      'An attached file is not the kind of file it says it is: attach a photo (JPEG, PNG or WebP) or a PDF',
    );
  }
  const format = photoFormats[declared];
  if (!format) return { body: bytes, contentType: declared };
  try {
    // sharp writes no metadata unless told to: EXIF (GPS, device), XMP and IPTC all go
    const body = await sharp(bytes, { failOn: 'error' }).rotate().toFormat(format).toBuffer();
    return { body, contentType: declared };
  } catch {
    throw new AppError('badRequest', 'An attached photo could not be read: attach it again');
  }
}
