import { createServer, type Server } from 'node:http';
import S3rver from 's3rver';

export interface LocalS3Options {
  /** Where objects are kept on disk. */
  directory: string;
  /** Buckets that exist from the start. */
  buckets: readonly string[];
}

/** CORS rules so browsers may PUT straight to presigned URLs from the web pages' origin. */
const corsConfig = `<CORSConfiguration>
  <CORSRule>
    <AllowedOrigin>*</AllowedOrigin>
    <AllowedMethod>GET</AllowedMethod>
    <AllowedMethod>PUT</AllowedMethod>
    <AllowedMethod>HEAD</AllowedMethod>
    <AllowedHeader>*</AllowedHeader>
    <ExposeHeader>ETag</ExposeHeader>
    <MaxAgeSeconds>3000</MaxAgeSeconds>
  </CORSRule>
</CORSConfiguration>`;

/**
 * An S3-compatible server (s3rver) for machines without AWS: path-style requests, credentials
 * S3RVER/S3RVER. Builds the HTTP server without listening; the caller listens.
 */
export async function createLocalS3Server(options: LocalS3Options): Promise<Server> {
  const s3rver = new S3rver({
    directory: options.directory,
    silent: true,
    vhostBuckets: false,
    configureBuckets: options.buckets.map((name) => ({ name, configs: [corsConfig] })),
  });
  await s3rver.configureBuckets();
  return createServer(s3rver.callback());
}
