import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { assertExportsDashboardMetrics } from '@gpc/test-support/dashboard-metrics';
import { describe, it } from 'node:test';
import {
  cleanupStack,
  closeWithPendingWriteBack,
  seedConsultation,
  seedPractice,
  startTestDatabase,
  testRedisUrl,
} from '@gpc/test-support';
import { buildRecordApp } from '../src/app';
import { createWriteBackQueue, enqueueWriteBack } from '../src/queue';

const token = `metrics-${randomUUID()}`;

describe('record worker metrics', () => {
  it('refuses a scrape without its bearer token, and serves the write-back queue and write-backs by status with it', async (t) => {
    const cleanup = cleanupStack(t);
    const db = await startTestDatabase(t);
    const queue = createWriteBackQueue(testRedisUrl, { prefix: `gpc-test-${randomUUID()}` });
    cleanup.after(async () => {
      await queue.obliterate({ force: true });
      await queue.close();
    });
    const practice = await seedPractice(db.pool, 'A81001');
    const consultationId = await seedConsultation(db.pool, practice.id);
    await closeWithPendingWriteBack(db.pool, consultationId, practice);
    await enqueueWriteBack(queue, { consultationId, practiceId: practice.id });
    const app = buildRecordApp({ queue, pool: db.pool, metricsToken: token });
    cleanup.after(() => app.close());
    await app.inject({ method: 'GET', url: '/healthz' });

    const refused = await app.inject({ method: 'GET', url: '/metrics' });
    assert.equal(refused.statusCode, 401);
    const scrape = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${token}` },
    });
    assert.equal(scrape.statusCode, 200);
    const text = scrape.body;
    assert.match(
      text,
      /gpc_http_request_duration_seconds_count\{service="record",method="GET",route="\/healthz",status_code="200"\} 1/,
    );
    assert.match(text, /^gpc_queue_jobs\{queue="fhir-write-back",state="waiting",service="record"\} 1$/m);
    assert.match(text, /^gpc_write_backs\{status="pending",service="record"\} 1$/m);
    assertExportsDashboardMetrics(text, 'record');
    assert.ok(!text.includes(consultationId), 'no consultation id in a label');
  });
});
