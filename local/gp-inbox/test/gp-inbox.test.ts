import assert from 'node:assert/strict';
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
    assert.equal(await gp.inbox.pollOnce(), 1);
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
});
