import { randomUUID } from 'node:crypto';
import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
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
  key: string;
  contentType: string;
  size: number;
}

/**
 * The uploads a request or reply names, each checked: this practice's, present in storage, of an
 * allowed type and size. Throws a patient-facing error otherwise.
 */
export async function verifyUploads(
  store: AttachmentStore | undefined,
  practiceId: string,
  keys: readonly string[],
): Promise<VerifiedUpload[]> {
  const verified: VerifiedUpload[] = [];
  for (const key of keys) {
    const stored = key.startsWith(`uploads/${practiceId}/`) ? await store?.describe(key) : undefined;
    if (
      !stored ||
      stored.size > maxAttachmentBytes ||
      !allowedContentTypes.includes((stored.contentType ?? '') as AllowedContentType)
    ) {
      throw new AppError(
        'badRequest',
        'An attached file did not arrive or is not allowed: please attach it again',
      );
    }
    verified.push({ key, contentType: stored.contentType ?? '', size: stored.size });
  }
  return verified;
}
