import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, describe, it } from 'node:test';
import pg from 'pg';
import { pino } from 'pino';
import type { WriteBackListItem, WriteBackView } from '@gpc/contracts';
import { GP_MAILBOX, OTHER_GP_MAILBOX, SERVICE_MAILBOX } from '@gpc/local-mesh-server';
import {
  seedConsultation,
  startGpInbox,
  startMeshServer,
  startTriage,
  testRedisUrl as redisUrl,
  waitFor,
  gpInboxPatients,
} from '@gpc/test-support';
import { FhirClient } from '../src/fhir/client';
import { createMeshClient } from '../src/mesh';
import { createWriteBackQueue } from '../src/queue';
import { buildItkAcknowledgement, parseItkAcknowledgement, type Stu3Bundle } from '../src/send-document';
import {
  createSendDocumentTransport,
  itk3Composer,
  SEND_DOCUMENT_ACK_WORKFLOW,
  startAckPoller,
  type SendDocumentComposer,
} from '../src/transports';
import { startWriteBackWorker } from '../src/worker';

const ackTimeoutMs = 4000;
/** Small enough that every report goes in several chunks. */
const chunkSizeBytes = 16 * 1024;

/** A marker in a summary that makes the test's composer break the message it builds. */
const BREAK_MESSAGE = '[test: break the message]';

describe('GP Connect Send Document: summaries over MESH, filed on the GP system’s ITK3 acknowledgements (real PostgreSQL, Redis, MESH stand-in, simulated GP system)', async () => {
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
  const client = createMeshClient({
    ...mesh.credentials(SERVICE_MAILBOX),
    outbound: { allowLoopbackHttp: true },
    chunkSizeBytes,
    timeoutMs: 5000,
  });
  world.after(() => client.close());
  // the real composer; a summary carrying the marker gets a message that fails validation
  const composer: SendDocumentComposer = {
    async compose(filing, context) {
      const composed = await itk3Composer.compose(filing, context);
      if (!filing.data.version.content.summary.includes(BREAK_MESSAGE)) return composed;
      const bundle = composed.bundle as Stu3Bundle;
      const header = bundle.entry?.[0]?.resource as Record<string, unknown>;
      delete header.event;
      return composed;
    },
    validate: (bundle) => itk3Composer.validate(bundle),
  };
  const queue = createWriteBackQueue(redisUrl, {
    prefix,
    retry: { baseDelayMs: 100, maxDelayMs: 1000 },
    perPracticeLimit: { max: 100, durationMs: 1000 },
  });
  const logger = pino({ level: 'silent' });
  const worker = startWriteBackWorker({
    queue,
    pool: db.pool,
    fhir: new FhirClient({ timeoutMs: 1000, outbound: { allowLoopbackHttp: true } }),
    readDocument: () => Promise.reject(new Error('no attachments here')),
    logger,
    concurrency: 4,
    practiceConcurrency: 4,
    maxAttempts: 100,
    sweepIntervalMs: 0,
    sweepAfterMs: 1000,
    transports: {
      'gp-connect-send-document': createSendDocumentTransport({
        pool: db.pool,
        mesh: client,
        senderMailboxId: SERVICE_MAILBOX,
        composer,
      }),
    },
  });
  world.after(() => worker.close());
  const poller = startAckPoller({
    pool: db.pool,
    mesh: client,
    parseAcknowledgement: parseItkAcknowledgement,
    logger,
    pollIntervalMs: 200,
    infrastructureAckTimeoutMs: ackTimeoutMs,
    businessAckTimeoutMs: ackTimeoutMs,
  });
  world.after(() => poller.close());

  const admin = as(practice, 'admin');

  async function closeRequest(options: { nhsNumber?: string; summary?: string } = {}): Promise<string> {
    const id = await seedConsultation(db.pool, practice.id, { nhsNumber: options.nhsNumber ?? '9434765919' });
    const response = await as(practice, 'clinician').inject({
      method: 'POST',
      url: `/consultations/${id}/close`,
      payload: {
        outcomeCode: '182836005',
        outcomeDisplay: 'Review of medication',
        summary: options.summary ?? 'Medication reviewed; no change.',
      },
    });
    assert.equal(response.statusCode, 200, response.body);
    return id;
  }

  const writeBack = async (id: string) => {
    const response = await admin.inject({ url: `/consultations/${id}` });
    assert.equal(response.statusCode, 200, response.body);
    return response.json<{ writeBack: WriteBackView }>().writeBack;
  };
  // polled through the API as staff, whom the API lets make 300 requests a minute: every 250 ms
  // stays under it (at waitFor's 50 ms the suite was answered 429 under load)
  const polled = { intervalMs: 250 };
  const settled = (id: string, status: WriteBackView['status'], timeoutMs = 30_000) =>
    waitFor(
      `write-back ${status}`,
      async () => {
        const view = await writeBack(id);
        return view.status === status ? view : undefined;
      },
      { timeoutMs, ...polled },
    );
  const messagesOf = async (id: string) =>
    (
      await db.pool.query<{
        itk_message_id: string;
        mesh_message_id: string | null;
        document_id: string;
        replaces_document_id: string | null;
        business_code: string | null;
      }>(
        `SELECT itk_message_id, mesh_message_id, document_id, replaces_document_id, business_code
           FROM send_document_message WHERE consultation_id = $1 ORDER BY created_at`,
        [id],
      )
    ).rows;
  const receivedBy = (itkMessageId: string) =>
    gp.inbox.received().filter((document) => document.itkMessageId === itkMessageId);
  const replay = async (id: string) => {
    const response = await admin.inject({ method: 'POST', url: `/consultations/${id}/write-back/replay` });
    assert.equal(response.statusCode < 300, true, response.body);
  };
  const noFaults = () => gp.inbox.setFaults({});

  it('files a summary once: sent by MESH, then 20013 and 30001 from the GP system make it filed in its workflow', async () => {
    const id = await closeRequest();
    const view = await settled(id, 'filed');
    assert.equal(view.transport, 'gp-connect-send-document');
    assert.equal(view.sendDocument?.infrastructure?.code, '20013');
    assert.equal(view.sendDocument?.business?.code, '30001');
    assert.ok(view.filedAt);
    const messages = await messagesOf(id);
    assert.equal(messages.length, 1, 'one message');
    assert.equal(messages[0]!.mesh_message_id, view.sendDocument?.meshMessageId);
    const received = receivedBy(messages[0]!.itk_message_id);
    assert.equal(received.length, 1, 'the GP system has it once');
    assert.equal(received[0]!.state, 'accepted');
    assert.equal(received[0]!.nhsNumber, '9434765919');
    // the document and its PDF, readable where the GP system keeps them
    const pdf = await fetch(`${gp.url}/documents/${received[0]!.meshMessageId}.pdf`);
    assert.equal(pdf.status, 200);
    assert.equal(
      Buffer.from(await pdf.arrayBuffer())
        .subarray(0, 5)
        .toString(),
      '%PDF-',
    );
  });

  it('sends a large report in chunks, and it arrives whole', async () => {
    const longSummary = `Reviewed at length. ${'Discussed the options and agreed a plan. '.repeat(400)}`;
    const id = await closeRequest({ summary: longSummary });
    const view = await settled(id, 'filed');
    const stored = mesh.mesh.store.get(view.sendDocument!.meshMessageId!);
    assert.ok(stored, 'MESH has the message');
    assert.ok(stored.totalChunks > 1, `sent in ${stored.totalChunks} chunks`);
    assert.equal(receivedBy(view.sendDocument!.itkMessageId)[0]?.state, 'accepted');
  });

  it('needs attention, saying why, when the GP system answers 30002 (patient not registered at this practice)', async () => {
    const id = await closeRequest({ nhsNumber: gpInboxPatients.notRegistered[0] });
    const view = await settled(id, 'needs_attention');
    assert.equal(view.sendDocument?.infrastructure?.code, '20013');
    assert.equal(view.sendDocument?.business?.code, '30002');
    assert.match(view.lastError ?? '', /30002/);
    assert.match(view.lastError ?? '', /not (known|registered)/i);
    const listed = await admin.inject({ url: '/write-backs?status=needs_attention' });
    assert.ok(
      listed.json<WriteBackListItem[]>().some((item) => item.consultationId === id),
      'listed for staff to look at',
    );
  });

  it('is refused with the code in words when the GP system answers 20009, and a re-send is a new message replacing nothing', async () => {
    gp.inbox.setFaults({ infrastructureCode: '20009' });
    try {
      const id = await closeRequest();
      const view = await settled(id, 'failed');
      assert.equal(view.sendDocument?.infrastructure?.code, '20009');
      assert.match(view.lastError ?? '', /20009/);
      assert.match(view.lastError ?? '', /validation/i);
      noFaults();
      await replay(id);
      await settled(id, 'filed');
      const [refused, resent] = await messagesOf(id);
      assert.ok(refused && resent, 'two messages');
      assert.notEqual(resent.itk_message_id, refused.itk_message_id);
      assert.equal(resent.replaces_document_id, null, 'a refused document is never replaced');
    } finally {
      noFaults();
    }
  });

  it('after a 30002, a re-send replaces the document the GP system received (relatesTo)', async () => {
    gp.inbox.setFaults({ businessCode: '30002' });
    try {
      const id = await closeRequest();
      await settled(id, 'needs_attention');
      noFaults();
      await replay(id);
      await settled(id, 'filed');
      const [first, second] = await messagesOf(id);
      assert.ok(first && second);
      assert.equal(second.replaces_document_id, first.document_id);
      assert.equal(receivedBy(second.itk_message_id)[0]?.replaces, first.document_id);
    } finally {
      noFaults();
    }
  });

  it('needs attention with the time waited when no infrastructure acknowledgement comes in the configured time', async () => {
    gp.inbox.setFaults({ noAck: true });
    try {
      const id = await closeRequest();
      await settled(id, 'sent');
      const view = await settled(id, 'needs_attention', ackTimeoutMs + 20_000);
      assert.match(view.lastError ?? '', /no acknowledgement .* after waiting \d+ seconds?/);
      assert.equal(view.sendDocument?.infrastructure, null);
    } finally {
      noFaults();
    }
  });

  it('needs attention with the time waited when no business acknowledgement follows a 20013 in time', async () => {
    gp.inbox.setFaults({ noBusinessAck: true });
    try {
      const id = await closeRequest();
      const view = await settled(id, 'needs_attention', ackTimeoutMs + 20_000);
      assert.equal(view.sendDocument?.infrastructure?.code, '20013');
      assert.match(view.lastError ?? '', /has not said it was filed, after waiting \d+ seconds?/);
    } finally {
      noFaults();
    }
  });

  it('needs attention when MESH reports it could not deliver the message', async () => {
    await db.pool.query('UPDATE practice SET mesh_recipient_mailbox = $2 WHERE id = $1', [
      practice.id,
      OTHER_GP_MAILBOX,
    ]);
    try {
      const id = await closeRequest();
      const view = await settled(id, 'needs_attention');
      assert.ok(view.sendDocument?.report, 'MESH’s report is recorded');
      assert.match(view.lastError ?? '', /MESH could not deliver it/);
    } finally {
      await db.pool.query('UPDATE practice SET mesh_recipient_mailbox = $2 WHERE id = $1', [
        practice.id,
        GP_MAILBOX,
      ]);
    }
  });

  it('refuses a message that fails ITK3 validation with its reason, and never sends it', async () => {
    const before = mesh.mesh.store.all().length;
    const id = await closeRequest({ summary: `Seen. ${BREAK_MESSAGE}` });
    const view = await settled(id, 'failed');
    assert.match(view.lastError ?? '', /not valid, so it was not sent/);
    assert.equal((await messagesOf(id)).length, 0, 'no message recorded');
    assert.equal(mesh.mesh.store.all().length, before, 'nothing reached MESH');
  });

  it('changes nothing on a duplicate acknowledgement', async () => {
    const id = await closeRequest();
    const filed = await settled(id, 'filed');
    const [message] = await messagesOf(id);
    const original = receivedBy(message!.itk_message_id)[0]!.message as Stu3Bundle;
    const gpClient = createMeshClient({
      ...mesh.credentials(GP_MAILBOX),
      outbound: { allowLoopbackHttp: true },
    });
    try {
      for (const [kind, code] of [
        ['business', '30001'],
        ['business', '30002'],
        ['infrastructure', '20009'],
      ] as const) {
        const ack = buildItkAcknowledgement({ original, kind, code, senderOdsCode: 'A81002' });
        const { messageId } = await gpClient.send({
          to: SERVICE_MAILBOX,
          workflowId: SEND_DOCUMENT_ACK_WORKFLOW,
          body: Buffer.from(JSON.stringify(ack)),
          contentType: 'application/fhir+json',
        });
        // read and acknowledged: gone from the service's inbox
        await waitFor(
          'the duplicate is read',
          () => !mesh.mesh.store.inbox(SERVICE_MAILBOX).some((m) => m.messageId === messageId),
        );
      }
    } finally {
      await gpClient.close();
    }
    const after = await writeBack(id);
    assert.equal(after.status, 'filed');
    assert.equal(after.filedAt, filed.filedAt);
    assert.equal(after.sendDocument?.business?.code, '30001');
    assert.equal(after.sendDocument?.infrastructure?.code, '20013');
    assert.equal((await messagesOf(id)).length, 1);
  });

  it('rides out MESH being down: the write-back waits pending, then is sent and filed once MESH is back', async () => {
    await mesh.stop();
    let id: string;
    try {
      id = await closeRequest();
      await waitFor(
        'a failed attempt',
        async () => {
          const view = await writeBack(id);
          return view.status === 'pending' && view.attempts >= 2 && view.lastError !== null
            ? view
            : undefined;
        },
        polled,
      );
    } finally {
      await mesh.start();
    }
    await settled(id, 'filed');
    const messages = await messagesOf(id);
    assert.equal(messages.length, 1, 'the same message, sent once MESH took it');
    assert.equal(receivedBy(messages[0]!.itk_message_id).length, 1);
  });

  it('acknowledges an inbox message to MESH only once its effect is committed: with PostgreSQL unreachable it stays there for the next poll', async () => {
    gp.inbox.setFaults({ noBusinessAck: true });
    let id: string;
    try {
      id = await closeRequest();
      await waitFor(
        '20013 recorded',
        async () => ((await writeBack(id)).sendDocument?.infrastructure?.code === '20013' ? true : undefined),
        polled,
      );
    } finally {
      noFaults();
    }
    const [message] = await messagesOf(id);
    const original = receivedBy(message!.itk_message_id)[0]!.message as Stu3Bundle;
    // the 30001 goes to a MESH of its own, which the suite's poller does not read
    const own = await startMeshServer(world);
    const ownInbox = createMeshClient({
      ...own.credentials(SERVICE_MAILBOX),
      outbound: { allowLoopbackHttp: true },
    });
    const ownGp = createMeshClient({ ...own.credentials(GP_MAILBOX), outbound: { allowLoopbackHttp: true } });
    const unreachable = new pg.Pool({
      connectionString: 'postgres://nobody@127.0.0.1:1/none',
      connectionTimeoutMillis: 2000,
    });
    world.after(async () => {
      await ownInbox.close();
      await ownGp.close();
      await unreachable.end();
    });
    const ack = buildItkAcknowledgement({
      original,
      kind: 'business',
      code: '30001',
      senderOdsCode: 'A81002',
    });
    const { messageId } = await ownGp.send({
      to: SERVICE_MAILBOX,
      workflowId: SEND_DOCUMENT_ACK_WORKFLOW,
      body: Buffer.from(JSON.stringify(ack)),
      contentType: 'application/fhir+json',
    });
    const poller = (pool: pg.Pool) =>
      startAckPoller({
        pool,
        mesh: ownInbox,
        parseAcknowledgement: parseItkAcknowledgement,
        logger,
        pollIntervalMs: 0,
        infrastructureAckTimeoutMs: 3_600_000,
        businessAckTimeoutMs: 3_600_000,
      });
    const inOwnInbox = () => own.mesh.store.inbox(SERVICE_MAILBOX).some((m) => m.messageId === messageId);
    await assert.rejects(poller(unreachable).pollOnce(), 'the poll reports the database it could not reach');
    assert.equal(inOwnInbox(), true, 'downloaded, not applied, so not acknowledged: still in the inbox');
    assert.equal((await messagesOf(id))[0]!.business_code, null);
    assert.deepEqual(await poller(db.pool).pollOnce(), { acknowledged: 1, moved: 1 });
    assert.equal(inOwnInbox(), false, 'applied, then acknowledged');
    assert.equal((await writeBack(id)).status, 'filed');
  });
});
