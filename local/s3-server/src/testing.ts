import { mkdtempSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createLocalS3Server } from './app';

export interface RunningLocalS3 {
  /** e.g. http://127.0.0.1:41234, for an S3 client's `endpoint` (path-style, credentials S3RVER/S3RVER). */
  endpoint: string;
  close(): Promise<void>;
}

/** A local S3 server on a free port with its own temporary folder, for tests. */
export async function startLocalS3(buckets: readonly string[]): Promise<RunningLocalS3> {
  const directory = mkdtempSync(path.join(tmpdir(), 'gpc-s3-'));
  const server = await createLocalS3Server({ directory, buckets });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      await new Promise((resolve) => server.close(resolve));
      rmSync(directory, { recursive: true, force: true });
    },
  };
}
