import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import {
  capturedLogger,
  compositionsFor,
  localOutbound,
  seedConsultation,
  startLocalFhir,
  startTriage,
  testRedisUrl as redisUrl,
  testSecretsKeyring,
  waitFor,
  type SeededPractice,
} from '@gpc/test-support';
import { FhirClient } from '../src/fhir/client';
import { createS3DocumentSource } from '../src/filing/s3-documents';
import { createWriteBackQueue } from '../src/queue';
import { startWriteBackWorker } from '../src/worker';

interface WriteBackView {
  status: string;
  attempts: number;
  lastError: string | null;
}

/** The GP system's OAuth token endpoint (client credentials, HTTP Basic): who asked, and with which secret. */
async function startTokenEndpoint() {
  const presented: { clientId: string; clientSecret: string }[] = [];
  const server = createServer((request, response) => {
    const basic = /^Basic (.+)$/.exec(request.headers.authorization ?? '')?.[1] ?? '';
    const [clientId = '', clientSecret = ''] = Buffer.from(basic, 'base64')
      .toString()
      .split(':')
      .map(decodeURIComponent);
    presented.push({ clientId, clientSecret });
    request.resume();
    response.writeHead(200, { 'content-type': 'application/json' });
    response.end(
      JSON.stringify({ access_token: `token-${randomUUID()}`, token_type: 'Bearer', expires_in: 300 }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/oauth2/token`,
    presented,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

describe('the record worker files with credentials stored encrypted (real PostgreSQL, Redis, FHIR server)', async () => {
  const prefix = `gpc-test-${randomUUID()}`;
  const { logger, lines: logLines } = capturedLogger('debug');
  const { db, practiceA, practiceB, as, ...world } = await startTriage(
    { after },
    { writeBackQueue: { prefix }, logger },
  );
  const fhir = await startLocalFhir();
  world.after(() => fhir.server.close());
  const tokens = await startTokenEndpoint();
  world.after(() => tokens.close());
  const documents = createS3DocumentSource({
    bucket: 'unused-here',
    region: 'eu-west-2',
    endpoint: 'http://127.0.0.1:1',
    forcePathStyle: true,
    accessKeyId: 'S3RVER',
    secretAccessKey: 'S3RVER',
  });
  world.after(() => documents.destroy());
  const queue = createWriteBackQueue(redisUrl, {
    prefix,
    retry: { baseDelayMs: 100, maxDelayMs: 1000 },
    perPracticeLimit: { max: 100, durationMs: 1000 },
  });
  const worker = startWriteBackWorker({
    queue,
    pool: db.pool,
    fhir: new FhirClient({ timeoutMs: 5000, outbound: localOutbound }),
    readDocument: documents.read,
    logger: logger.child({ service: 'record' }),
    concurrency: 2,
    practiceConcurrency: 2,
    maxAttempts: 3,
    sweepIntervalMs: 0,
    sweepAfterMs: 60_000,
    secrets: testSecretsKeyring,
  });
  world.after(() => worker.close());

  const clientSecret = `gp-system-secret-${randomUUID()}`;

  /** A request of the practice closed by its clinician; its write-back once it has settled. */
  async function closeAndFile(practice: SeededPractice, settled: 'filed' | 'failed') {
    const id = await seedConsultation(db.pool, practice.id);
    const clinician = as(practice, 'clinician');
    const closed = await clinician.inject({
      method: 'POST',
      url: `/consultations/${id}/close`,
      payload: { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'Reviewed.' },
    });
    assert.equal(closed.statusCode, 200, closed.body);
    const view = await waitFor(`write-back ${settled}`, async () => {
      const detail = await clinician.inject({ url: `/consultations/${id}` });
      const writeBack = detail.json<{ writeBack: WriteBackView | null }>().writeBack;
      return writeBack?.status === settled ? writeBack : undefined;
    });
    return { id, view };
  }

  it('files with the client secret an admin saved (stored encrypted), presented to the practice’s token endpoint', async () => {
    const saved = await as(practiceA, 'admin').inject({
      method: 'PATCH',
      url: '/practice',
      payload: {
        fhir: {
          baseUrl: fhir.base,
          auth: { type: 'client_credentials', tokenUrl: tokens.url, clientId: 'riverside', clientSecret },
        },
      },
    });
    assert.equal(saved.statusCode, 200, saved.body);
    const raw = await db.pool.query<{ fhir_auth: string }>(
      'SELECT fhir_auth::text FROM practice WHERE id = $1',
      [practiceA.id],
    );
    assert.ok(!raw.rows[0]!.fhir_auth.includes(clientSecret), 'the row holds no plain secret');

    const { id, view } = await closeAndFile(practiceA, 'filed');
    assert.equal(view.attempts, 1);
    assert.equal((await compositionsFor(fhir.base, id)).length, 1);
    assert.deepEqual(tokens.presented.at(-1), { clientId: 'riverside', clientSecret });
  });

  it('refuses a GP-system secret copied into another practice’s row: the write-back fails saying so, and the secret is never presented', async () => {
    // someone with write access to the table gives practice B practice A's endpoint and encrypted credentials
    await db.pool.query(
      `UPDATE practice SET (fhir_base_url, fhir_auth) = (SELECT fhir_base_url, fhir_auth FROM practice WHERE id = $1)
        WHERE id = $2`,
      [practiceA.id, practiceB.id],
    );
    const asked = tokens.presented.length;
    const { id, view } = await closeAndFile(practiceB, 'failed');
    assert.equal(view.attempts, 1, 'failed for good at once, not retried');
    assert.match(
      view.lastError ?? '',
      /^the practice's FHIR credentials cannot be used: the stored fhir_auth\.clientSecret does not decrypt/,
    );
    assert.equal(tokens.presented.length, asked, 'the token endpoint never heard from practice B');
    assert.equal((await compositionsFor(fhir.base, id)).length, 0, 'nothing filed for B');
  });

  it('never writes the secret to the logs (triage’s and the worker’s)', () => {
    const text = logLines.join('');
    assert.ok(text.includes('write-back'), 'the worker’s log was captured');
    assert.ok(!text.includes(clientSecret));
    assert.ok(!text.includes(Buffer.from(clientSecret).toString('base64')));
    assert.ok(!text.includes('enc:v1:'), 'not even encrypted');
  });
});
