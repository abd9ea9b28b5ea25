import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { DocumentSource } from './load';

export interface S3DocumentSettings {
  bucket: string;
  region: string;
  endpoint?: string;
  accessKeyId: string;
  secretAccessKey: string;
  forcePathStyle: boolean;
}

/** Reads patients' attachments from the S3 bucket triage stored them in, to file them as documents. */
export function createS3DocumentSource(settings: S3DocumentSettings): {
  read: DocumentSource;
  destroy(): void;
} {
  const client = new S3Client({
    region: settings.region,
    forcePathStyle: settings.forcePathStyle,
    ...(settings.endpoint ? { endpoint: settings.endpoint } : {}),
    credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey },
  });
  return {
    async read(key) {
      const object = await client.send(new GetObjectCommand({ Bucket: settings.bucket, Key: key }));
      if (!object.Body) throw new Error('the attachment has no body');
      return Buffer.from(await object.Body.transformToByteArray());
    },
    destroy: () => client.destroy(),
  };
}
