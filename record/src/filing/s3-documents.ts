import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import type { S3Settings } from '@gpc/contracts';
import type { DocumentSource } from './load';

/** Reads patients' attachments from the S3 bucket triage stored them in, to file them as documents. */
export function createS3DocumentSource(settings: S3Settings): {
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
