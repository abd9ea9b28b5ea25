import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import type { WriteBackView } from '@gpc/contracts';
import { GP_MAILBOX, SERVICE_MAILBOX } from '@gpc/local-mesh-server';
import {
  seedConsultation,
  startGpInbox,
  startMeshServer,
  startTriage,
  testRedisUrl as redisUrl,
  waitFor,
  type ChildService,
} from '@gpc/test-support';
import { spawnRecordWorker } from './support/processes';

describe('GP Connect Send Document through a record worker killed between send and acknowledgement (real PostgreSQL, Redis, MESH stand-in, simulated GP system)', async () => {
  const prefix = `gpc-test-${randomUUID()}`;
  const {
    db,
    practiceA: practice,
    as,
    ...world
  } = await startTriage({ after }, { writeBackQueue: { prefix } });
  const mesh = await startMeshServer(world);
  const gp = await startGpInbox(world, mesh);
  await db.pool.query(
    `UPDATE practice SET write_back_transport = 'gp-connect-send-document', mesh_recipient_mailbox = $2,
            send_document_recipient_ods = 'A81002' WHERE id = $1`,
    [practice.id, GP_MAILBOX],
  );
  const service = mesh.credentials(SERVICE_MAILBOX);
  const env = {
    RECORD_DATABASE_URL: db.url,
    RECORD_REDIS_URL: redisUrl,
    RECORD_QUEUE_PREFIX: prefix,
    RECORD_RETRY_BASE_DELAY_MS: '200',
    RECORD_RETRY_MAX_DELAY_MS: '2000',
    RECORD_LOCK_DURATION_MS: '2000',
    RECORD_STALLED_INTERVAL_MS: '1000',
    RECORD_MESH_URL: service.url,
    RECORD_MESH_MAILBOX_ID: service.mailboxId,
    RECORD_MESH_PASSWORD: service.password,
    RECORD_MESH_SHARED_KEY: service.sharedKey,
    RECORD_MESH_POLL_INTERVAL_MS: '200',
    RECORD_MESH_INFRASTRUCTURE_ACK_TIMEOUT_MS: '600000',
    RECORD_MESH_BUSINESS_ACK_TIMEOUT_MS: '600000',
  };
  const workers: ChildService[] = [];
  world.after(async () => {
    for (const worker of workers) await worker.kill();
  });

  const writeBack = async (id: string) => {
    const response = await as(practice, 'admin').inject({ url: `/consultations/${id}` });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ writeBack: WriteBackView }>().writeBack;
  };
  // a fresh worker process (tsx, the R4 and STU3 definitions) took up to a minute to start on 2
  // cores under load ~45 to ~85: the wait covers its start as well as the acknowledgements
  const settled = (id: string, status: WriteBackView['status']) =>
    waitFor(
      () => `write-back ${status}; the worker's output: ${workers.at(-1)?.output() ?? 'none'}`,
      async () => {
        const view = await writeBack(id);
        return view.status === status ? view : undefined;
      },
      { timeoutMs: 180_000, intervalMs: 250 },
    );

  it('files it once: a worker killed (SIGKILL) after MESH took the message, and a new one reads the acknowledgements', async () => {
    // the GP system is slow to answer, so the worker is gone before the acknowledgements come
    gp.inbox.setFaults({ delayMs: 3000 });
    const first = spawnRecordWorker(env);
    workers.push(first);
    const id = await seedConsultation(db.pool, practice.id);
    const closed = await as(practice, 'clinician').inject({
      method: 'POST',
      url: `/consultations/${id}/close`,
      payload: { outcomeCode: '182836005', outcomeDisplay: 'Review of medication', summary: 'Reviewed.' },
    });
    assert.equal(closed.statusCode, 200, closed.body);
    const sent = await settled(id, 'sent');
    await first.kill();
    assert.ok(sent.sendDocument?.meshMessageId, 'MESH’s id stored with sent');

    // the acknowledgements wait in the service's MESH inbox meanwhile
    await waitFor(
      'both acknowledgements in the service’s inbox',
      () => (mesh.mesh.store.inbox(SERVICE_MAILBOX).length >= 2 ? true : undefined),
      { timeoutMs: 30_000 },
    );
    const second = spawnRecordWorker(env);
    workers.push(second);
    const filed = await settled(id, 'filed');
    assert.equal(
      filed.sendDocument?.itkMessageId,
      sent.sendDocument?.itkMessageId,
      'resumed from the stored ids',
    );
    const { rows } = await db.pool.query('SELECT 1 FROM send_document_message WHERE consultation_id = $1', [
      id,
    ]);
    assert.equal(rows.length, 1, 'one message');
    assert.equal(
      gp.inbox.received().filter((document) => document.itkMessageId === sent.sendDocument?.itkMessageId)
        .length,
      1,
      'the GP system received it once',
    );
    await waitFor('the inbox emptied', () =>
      mesh.mesh.store.inbox(SERVICE_MAILBOX).length === 0 ? true : undefined,
    );
    assert.equal(await second.stop(), 0, `graceful stop exits 0: ${second.output()}`);
  });
});
