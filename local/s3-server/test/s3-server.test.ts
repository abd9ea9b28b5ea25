import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  CreateBucketCommand,
  GetObjectCommand,
  ListBucketsCommand,
  PutObjectCommand,
  S3Client,
} from '@aws-sdk/client-s3';
import { getSignedUrl } from '@aws-sdk/s3-request-presigner';
import { createLocalS3Server } from '../src/app';

describe('local S3 server with the AWS SDK', () => {
  let server: Server;
  let directory: string;
  let client: S3Client;

  before(async () => {
    directory = mkdtempSync(path.join(tmpdir(), 'gpc-s3-'));
    server = await createLocalS3Server({ directory, buckets: ['preconfigured'] });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    client = new S3Client({
      endpoint: `http://127.0.0.1:${port}`,
      region: 'eu-west-2',
      forcePathStyle: true,
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    });
  });

  after(async () => {
    client.destroy();
    await new Promise((resolve) => server.close(resolve));
    rmSync(directory, { recursive: true, force: true });
  });

  it('has the configured bucket from the start', async () => {
    const { Buckets } = await client.send(new ListBucketsCommand({}));
    assert.ok(Buckets?.some((bucket) => bucket.Name === 'preconfigured'));
  });

  it('creates a bucket, stores an object and serves it through a presigned GET', async () => {
    await client.send(new CreateBucketCommand({ Bucket: 'smoke' }));
    await client.send(
      new PutObjectCommand({
        Bucket: 'smoke',
        Key: 'a/photo.jpg',
        Body: 'jpeg bytes',
        ContentType: 'image/jpeg',
      }),
    );
    const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: 'smoke', Key: 'a/photo.jpg' }), {
      expiresIn: 60,
    });
    const response = await fetch(url);
    assert.equal(response.status, 200);
    assert.equal(await response.text(), 'jpeg bytes');
    assert.equal(response.headers.get('content-type'), 'image/jpeg');
  });

  it('accepts a presigned PUT, and refuses a presigned URL once it has expired', async () => {
    const url = await getSignedUrl(
      client,
      new PutObjectCommand({ Bucket: 'preconfigured', Key: 'upload.txt' }),
      { expiresIn: 60 },
    );
    const put = await fetch(url, { method: 'PUT', body: 'uploaded' });
    assert.equal(put.status, 200);
    const object = await client.send(new GetObjectCommand({ Bucket: 'preconfigured', Key: 'upload.txt' }));
    assert.equal(await object.Body?.transformToString(), 'uploaded');

    // s3rver checks expiry but does not verify SigV4 signatures: signature checks are real S3's job
    const shortLived = await getSignedUrl(
      client,
      new GetObjectCommand({ Bucket: 'preconfigured', Key: 'upload.txt' }),
      { expiresIn: 1 },
    );
    await new Promise((resolve) => setTimeout(resolve, 2100));
    const refused = await fetch(shortLived);
    assert.equal(refused.status, 403);
  });
});
