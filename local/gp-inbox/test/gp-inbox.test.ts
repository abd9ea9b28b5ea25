import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, beforeEach, describe, it } from 'node:test';
import { createMeshClient, type MeshClient } from '@gpc/record/mesh';
import {
  buildSendDocumentMessage,
  parseItkAcknowledgement,
  type ParsedItkAcknowledgement,
} from '@gpc/record/send-document';
import {
  GP_MAILBOX,
  SEND_DOCUMENT_ACK_WORKFLOW,
  SEND_DOCUMENT_WORKFLOW,
  SERVICE_MAILBOX,
  startLocalMesh,
  type RunningLocalMesh,
} from '@gpc/local-mesh-server';
import { sendDocumentInput } from '../../../record/test/support/send-document';
import { outcomeInWords, readableTime } from '../src/app';
import { startLocalGpInbox, type RunningGpInbox } from '../src/testing';

const registered = '9434765919';
const deceased = '9000000092';
const notRegistered = '9000000041';
const pdf = Buffer.from('%PDF-1.4\n% a report\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n');

describe('the simulated GP inbox', () => {
  let mesh: RunningLocalMesh;
  let gp: RunningGpInbox;
  let service: MeshClient;

  before(async () => {
    mesh = await startLocalMesh();
    gp = await startLocalGpInbox({
      mesh: mesh.credentials(GP_MAILBOX),
      odsCode: 'A81002',
      registeredPatients: [registered, deceased],
      deceasedPatients: [deceased],
      poll: false,
      log: (line) => console.error(line),
    });
    service = createMeshClient({
      ...mesh.credentials(SERVICE_MAILBOX),
      outbound: { allowLoopbackHttp: true },
    });
  });
  after(async () => {
    await service.close();
    await gp.close();
    await mesh.close();
  });
  beforeEach(() => gp.inbox.setFaults({}));

  /** Sends one report over MESH and has the GP system poll once. */
  async function sendReport(
    nhsNumber = registered,
    change: (bundle: Record<string, unknown>) => void = () => undefined,
  ) {
    return sendReportTo(gp, nhsNumber, change);
  }

  /** Sends one report over MESH and has `to` poll once. */
  async function sendReportTo(
    to: RunningGpInbox,
    nhsNumber = registered,
    change: (bundle: Record<string, unknown>) => void = () => undefined,
  ) {
    const { bundle, messageId } = buildSendDocumentMessage(
      sendDocumentInput({ nhsNumber, pdf, messageId: undefined, documentId: undefined }),
    );
    change(bundle);
    const sent = await service.send({
      to: GP_MAILBOX,
      workflowId: SEND_DOCUMENT_WORKFLOW,
      localId: 'A81001',
      subject: 'Online consultation report',
      body: Buffer.from(JSON.stringify(bundle)),
      contentType: 'application/fhir+json',
    });
    assert.equal(await to.inbox.pollOnce(), 1);
    return { itkMessageId: messageId, meshMessageId: sent.messageId };
  }

  /** The ITK3 acknowledgements waiting for us, read and acknowledged to MESH. */
  async function acks(): Promise<ParsedItkAcknowledgement[]> {
    const found: ParsedItkAcknowledgement[] = [];
    for (const id of await service.listInbox()) {
      const message = await service.download(id);
      assert.equal(message.workflowId, SEND_DOCUMENT_ACK_WORKFLOW);
      assert.equal(message.from, GP_MAILBOX);
      found.push(parseItkAcknowledgement(message.body));
      await service.acknowledge(id);
    }
    return found;
  }

  it('files a valid report for a registered patient: 20013 then 30001 over MESH, kept at its URL with its PDF', async () => {
    const { itkMessageId, meshMessageId } = await sendReport();
    const answers = await acks();
    assert.deepEqual(
      answers.map((a) => [a.kind, a.code, a.acknowledgedMessageId]),
      [
        ['infrastructure', '20013', itkMessageId],
        ['business', '30001', itkMessageId],
      ],
    );
    assert.equal((await service.track(meshMessageId)).status, 'acknowledged');
    const list = await fetch(gp.url);
    assert.match(await list.text(), new RegExp(`/documents/${meshMessageId}.pdf`));
    const document = await fetch(`${gp.url}/documents/${meshMessageId}.json`);
    assert.equal(
      ((await document.json()) as { entry: { resource: { id: string } }[] }).entry[0]!.resource.id,
      itkMessageId,
    );
    const file = await fetch(`${gp.url}/documents/${meshMessageId}.pdf`);
    assert.equal(file.headers.get('content-type'), 'application/pdf');
    assert.deepEqual(Buffer.from(await file.arrayBuffer()), pdf);
  });

  it('answers 30002 for a patient not registered at the practice and 30004 for one recorded deceased', async () => {
    await sendReport(notRegistered);
    assert.deepEqual(
      (await acks()).map((a) => a.code),
      ['20013', '30002'],
    );
    await sendReport(deceased);
    assert.deepEqual(
      (await acks()).map((a) => a.code),
      ['20013', '30004'],
    );
  });

  it('refuses a message whose document does not validate with 20009 and sends no business acknowledgement', async () => {
    const { meshMessageId } = await sendReport(registered, (bundle) => {
      bundle.notAnStu3Element = true;
    });
    const answers = await acks();
    assert.deepEqual(
      answers.map((a) => [a.kind, a.code]),
      [['infrastructure', '20009']],
    );
    const kept = gp.inbox.received().find((d) => d.meshMessageId === meshMessageId);
    assert.equal(kept?.state, 'refused');
    assert.equal((await service.track(meshMessageId)).status, 'acknowledged');
  });

  it('follows its fault switches, set over HTTP: no acknowledgement, a forced 20009, a forced 30002', async () => {
    const set = async (faults: object) => {
      const response = await fetch(`${gp.url}/admin/faults`, { method: 'PUT', body: JSON.stringify(faults) });
      assert.equal(response.status, 200);
    };
    await set({ noAck: true });
    const silent = await sendReport();
    assert.deepEqual(await acks(), []);
    assert.equal(
      (await service.track(silent.meshMessageId)).status,
      'acknowledged',
      'taken from MESH all the same',
    );
    await set({ infrastructureCode: '20009' });
    await sendReport();
    assert.deepEqual(
      (await acks()).map((a) => a.code),
      ['20009'],
    );
    await set({ businessCode: '30002' });
    await sendReport();
    assert.deepEqual(
      (await acks()).map((a) => a.code),
      ['20013', '30002'],
    );
    await set({ noBusinessAck: true });
    await sendReport();
    assert.deepEqual(
      (await acks()).map((a) => a.code),
      ['20013'],
    );
  });

  it('leaves a message in its mailbox while MESH will not take its acknowledgements, and answers it once when MESH is back', async () => {
    const { bundle, messageId } = buildSendDocumentMessage(
      sendDocumentInput({ pdf, messageId: undefined, documentId: undefined }),
    );
    const sent = await service.send({
      to: GP_MAILBOX,
      workflowId: SEND_DOCUMENT_WORKFLOW,
      body: Buffer.from(JSON.stringify(bundle)),
    });
    // the GP system can read its inbox, but its sends fail: MESH is refusing everything after the download
    const realSend = gp.inbox.mesh.send.bind(gp.inbox.mesh);
    gp.inbox.mesh.send = async () => {
      await fetch(`${mesh.url}/messageexchange/admin/fault`, {
        method: 'PUT',
        body: JSON.stringify({ status: 503 }),
      });
      return realSend({ to: 'X', workflowId: 'X', body: Buffer.from('x') });
    };
    assert.equal(await gp.inbox.pollOnce(), 0);
    gp.inbox.mesh.send = realSend;
    await fetch(`${mesh.url}/messageexchange/admin/fault`, {
      method: 'PUT',
      body: JSON.stringify({ status: null }),
    });
    assert.equal((await service.track(sent.messageId)).status, 'accepted', 'not acknowledged to MESH');
    assert.equal(await gp.inbox.pollOnce(), 1);
    const answers = await acks();
    assert.deepEqual(
      answers.map((a) => [a.code, a.acknowledgedMessageId]),
      [
        ['20013', messageId],
        ['30001', messageId],
      ],
    );
    assert.equal(gp.inbox.received().filter((d) => d.itkMessageId === messageId).length, 1);
  });

  it('its page says a 30002 was refused and why, and when each arrived as a person reads it', async () => {
    const { meshMessageId } = await sendReport(notRegistered);
    await acks();
    const kept = gp.inbox.received().find((d) => d.meshMessageId === meshMessageId)!;
    const html = await (await fetch(gp.url)).text();
    const row = html.split('<tr>').find((part) => part.includes(`/documents/${meshMessageId}.json`))!;
    assert.match(row, /<td>Refused: patient not registered at this practice \(ITK 30002\)<\/td>/);
    assert.doesNotMatch(row, /accepted/i);
    // the time in words in the cell, the ISO time only in the machine-readable attribute
    assert.ok(
      row.includes(`<time datetime="${kept.receivedAt}">${readableTime(kept.receivedAt)}</time>`),
      row,
    );
    assert.match(readableTime(kept.receivedAt), /^\d{1,2} [A-Z][a-z]{2} \d{4}, \d{2}:\d{2}:\d{2} /);
    assert.doesNotMatch(row, />\d{4}-\d{2}-\d{2}T/);
    assert.equal(
      outcomeInWords({ ...kept, state: 'refused', infrastructureCode: '20009', businessCode: null }),
      'Refused: payload validation failure (ITK 20009)',
    );
    assert.equal(outcomeInWords({ ...kept, businessCode: '30001' }), 'Filed in the workflow');
  });

  it('answers HEAD as it answers GET, without a body', async () => {
    for (const [where, status, type] of [
      ['/', 200, 'text/html; charset=utf-8'],
      ['/health', 200, 'application/json'],
      ['/admin/received', 200, 'application/json'],
      ['/documents/NO_SUCH_MESSAGE.pdf', 404, 'text/plain'],
    ] as const) {
      const response = await fetch(`${gp.url}${where}`, { method: 'HEAD' });
      assert.equal(response.status, status, where);
      assert.equal(response.headers.get('content-type'), type, where);
      assert.equal((await response.arrayBuffer()).byteLength, 0, where);
    }
  });

  it('keeps what it received across a restart, one journal line a change, a torn last line skipped', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'gp-inbox-'));
    try {
      const dataFile = path.join(dir, 'documents.json');
      const first = await startLocalGpInbox({
        mesh: mesh.credentials(GP_MAILBOX),
        odsCode: 'A81002',
        registeredPatients: [registered],
        poll: false,
        dataFile,
      });
      const { meshMessageId } = await sendReportTo(first);
      await acks();
      const size = statSync(dataFile).size;
      await sendReportTo(first);
      await acks();
      // the second document appended, not the first written again with it
      assert.ok(statSync(dataFile).size < 2 * size + 1000);
      await first.close();
      appendFileSync(dataFile, '{"meshMessageId":"TORN'); // killed mid-write
      const again = await startLocalGpInbox({
        mesh: mesh.credentials(GP_MAILBOX),
        odsCode: 'A81002',
        registeredPatients: [registered],
        poll: false,
        dataFile,
      });
      try {
        assert.equal(again.inbox.received().length, 2);
        assert.equal(again.inbox.received()[0]!.meshMessageId, meshMessageId);
        assert.equal((await fetch(`${again.url}/documents/${meshMessageId}.pdf`)).status, 200);
      } finally {
        await again.close();
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
