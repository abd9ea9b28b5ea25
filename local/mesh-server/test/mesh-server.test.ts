import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import {
  createMeshClient,
  meshAuthorizationHeader,
  meshTimestamp,
  MeshError,
  type MeshClient,
} from '@gpc/record/mesh';
import {
  GP_MAILBOX,
  OTHER_GP_MAILBOX,
  SEND_DOCUMENT_WORKFLOW,
  SERVICE_MAILBOX,
  startLocalMesh,
  type RunningLocalMesh,
} from '../src/testing';
import { createMeshServer } from '../src/app';
import type { StoredMessage } from '../src/store';

const outbound = { allowLoopbackHttp: true };

async function meshErrorOf(promise: Promise<unknown>): Promise<MeshError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(error instanceof MeshError, `expected a MeshError, got ${String(error)}`);
    return error;
  }
  assert.fail('expected a MeshError');
}

describe('the local MESH server', () => {
  let mesh: RunningLocalMesh;
  let service: MeshClient;
  let gp: MeshClient;
  const clients: MeshClient[] = [];
  const client = (mailboxId: string, extra: { chunkSizeBytes?: number; password?: string } = {}) => {
    const made = createMeshClient({ ...mesh.credentials(mailboxId), ...extra, outbound, timeoutMs: 10_000 });
    clients.push(made);
    return made;
  };

  before(async () => {
    mesh = await startLocalMesh();
    service = client(SERVICE_MAILBOX);
    gp = client(GP_MAILBOX);
  });
  after(async () => {
    for (const made of clients) await made.close();
    await mesh.close();
  });

  /** A request signed by hand, so the header's parts can be chosen. */
  async function handshakeWith(parts: {
    nonce: string;
    nonceCount: number;
    timestamp: string;
    sharedKey?: string;
  }) {
    const { password } = mesh.credentials(SERVICE_MAILBOX);
    const authorization = meshAuthorizationHeader({
      mailboxId: SERVICE_MAILBOX,
      password,
      sharedKey: parts.sharedKey ?? mesh.sharedKey,
      ...parts,
    });
    const response = await fetch(`${mesh.url}/messageexchange/${SERVICE_MAILBOX}`, {
      method: 'POST',
      headers: { authorization, accept: 'application/vnd.mesh.v2+json' },
    });
    return response.status;
  }

  it('answers the handshake of a mailbox with the right password and shared key', async () => {
    await service.handshake();
    await gp.handshake();
  });

  it('refuses a wrong password, a wrong shared key, an old timestamp and a reused nonce with 403', async () => {
    const wrongPassword = await meshErrorOf(client(SERVICE_MAILBOX, { password: 'not-it' }).handshake());
    assert.equal(wrongPassword.code, 'mesh-unauthorised');
    assert.equal(wrongPassword.status, 403);
    const now = meshTimestamp();
    assert.equal(
      await handshakeWith({ nonce: 'n-key', nonceCount: 1, timestamp: now, sharedKey: 'Banana' }),
      403,
    );
    const old = meshTimestamp(new Date(Date.now() - 10 * 60_000));
    assert.equal(await handshakeWith({ nonce: 'n-old', nonceCount: 1, timestamp: old }), 403);
    assert.equal(await handshakeWith({ nonce: 'n-once', nonceCount: 1, timestamp: now }), 200);
    assert.equal(await handshakeWith({ nonce: 'n-once', nonceCount: 1, timestamp: now }), 403, 'replayed');
    assert.equal(await handshakeWith({ nonce: 'n-once', nonceCount: 2, timestamp: now }), 200, 'counted on');
  });

  it('delivers a small message with its headers, lists it, and forgets it once acknowledged', async () => {
    const body = Buffer.from(JSON.stringify({ resourceType: 'Bundle', type: 'message' }));
    const { messageId } = await service.send({
      to: GP_MAILBOX,
      workflowId: SEND_DOCUMENT_WORKFLOW,
      subject: 'Online consultation report for Zoë Smith',
      localId: 'A81001',
      body,
      contentType: 'application/fhir+json',
    });
    assert.ok((await gp.listInbox()).includes(messageId));
    const received = await gp.download(messageId);
    assert.equal(received.messageType, 'DATA');
    assert.equal(received.from, SERVICE_MAILBOX);
    assert.equal(received.to, GP_MAILBOX);
    assert.equal(received.workflowId, SEND_DOCUMENT_WORKFLOW);
    assert.equal(received.localId, 'A81001');
    assert.equal(received.subject, 'Online consultation report for Zoe Smith');
    assert.deepEqual(received.body, body);
    assert.equal((await service.track(messageId)).status, 'accepted');
    await gp.acknowledge(messageId);
    assert.ok(!(await gp.listInbox()).includes(messageId));
    const tracked = await service.track(messageId);
    assert.equal(tracked.status, 'acknowledged');
    assert.ok(tracked.acknowledged_timestamp);
  });

  it('takes a large message in chunks and gives it back whole', async () => {
    const chunked = client(SERVICE_MAILBOX, { chunkSizeBytes: 1000 });
    const body = Buffer.from(Array.from({ length: 3500 }, (_, i) => i % 251));
    const { messageId } = await chunked.send({ to: GP_MAILBOX, workflowId: SEND_DOCUMENT_WORKFLOW, body });
    const stored = mesh.mesh.store.get(messageId)!;
    assert.equal(stored.totalChunks, 4);
    assert.deepEqual(
      stored.chunks.map((c) => c?.length),
      [1000, 1000, 1000, 500],
    );
    const received = await gp.download(messageId);
    assert.deepEqual(received.body, body);
    await gp.acknowledge(messageId);
  });

  it('does not deliver a chunked message until its last chunk is in', async () => {
    const { password } = mesh.credentials(SERVICE_MAILBOX);
    const auth = (count: number) =>
      meshAuthorizationHeader({
        mailboxId: SERVICE_MAILBOX,
        password,
        sharedKey: mesh.sharedKey,
        nonce: 'partial',
        nonceCount: count,
        timestamp: meshTimestamp(),
      });
    const response = await fetch(`${mesh.url}/messageexchange/${SERVICE_MAILBOX}/outbox`, {
      method: 'POST',
      headers: {
        authorization: auth(1),
        'mex-to': GP_MAILBOX,
        'mex-workflowid': SEND_DOCUMENT_WORKFLOW,
        'mex-chunk-range': '1:2',
        'content-type': 'application/octet-stream',
      },
      body: 'first half',
    });
    assert.equal(response.status, 202);
    const { message_id: messageId } = (await response.json()) as { message_id: string };
    assert.ok(!(await gp.listInbox()).includes(messageId));
    assert.equal((await service.track(messageId)).status, 'uploading');
  });

  it('refuses a message to a mailbox MESH does not know (417, code 12), as mesh-sandbox does', async () => {
    const refused = await meshErrorOf(
      service.send({ to: 'NOSUCHBOX1', workflowId: SEND_DOCUMENT_WORKFLOW, body: Buffer.from('x') }),
    );
    assert.equal(refused.code, 'mesh-refused');
    assert.equal(refused.status, 417);
    assert.equal(refused.meshCode, '12');
    assert.equal(refused.retryable, false);
  });

  it('sends a non-delivery report back to the sender for a workflow the recipient does not take', async () => {
    const { messageId } = await service.send({
      to: OTHER_GP_MAILBOX,
      workflowId: SEND_DOCUMENT_WORKFLOW,
      localId: 'A81001',
      body: Buffer.from('{}'),
    });
    const other = client(OTHER_GP_MAILBOX);
    assert.deepEqual(await other.listInbox(), []);
    const reportId = (await service.listInbox()).find(
      (id) => mesh.mesh.store.get(id)?.linkedMessageId === messageId,
    );
    assert.ok(reportId, 'a report in the sender inbox');
    const report = await service.download(reportId);
    assert.equal(report.messageType, 'REPORT');
    assert.equal(report.linkedMessageId, messageId);
    assert.equal(report.statusCode, '17');
    assert.equal(report.statusDescription, 'Workflow ID not registered for mailbox');
    assert.equal(report.workflowId, SEND_DOCUMENT_WORKFLOW);
    const tracked = await service.track(messageId);
    assert.equal(tracked.status, 'undeliverable');
    assert.equal(tracked.statusCode, '17');
    await service.acknowledge(reportId);
  });

  it('routes GPPROVIDER_ addresses to the practice the patient is registered with, or reports no mailbox matched', async () => {
    const routed = await startLocalMesh({
      mailboxes: [
        { mailboxId: SERVICE_MAILBOX, password: 'p1' },
        { mailboxId: GP_MAILBOX, password: 'p2', gpProviderFor: ['9000000009'] },
      ],
    });
    const sender = createMeshClient({ ...routed.credentials(SERVICE_MAILBOX), outbound });
    const practice = createMeshClient({ ...routed.credentials(GP_MAILBOX), outbound });
    try {
      const known = await sender.send({
        to: 'GPPROVIDER_9000000009_14071985_SMITH',
        workflowId: SEND_DOCUMENT_WORKFLOW,
        body: Buffer.from('a'),
      });
      assert.deepEqual(await practice.listInbox(), [known.messageId]);
      const unknown = await sender.send({
        to: 'GPPROVIDER_9000000017_01011990_TAYLOR',
        workflowId: SEND_DOCUMENT_WORKFLOW,
        body: Buffer.from('b'),
      });
      const [reportId] = await sender.listInbox();
      const report = await sender.download(reportId!);
      assert.equal(report.linkedMessageId, unknown.messageId);
      assert.equal(report.statusCode, 'EPL-151');
    } finally {
      await sender.close();
      await practice.close();
      await routed.close();
    }
  });

  it('answers 503 while the fault switch is on, and is unreachable while stopped, keeping its messages', async () => {
    const { messageId } = await service.send({
      to: GP_MAILBOX,
      workflowId: SEND_DOCUMENT_WORKFLOW,
      body: Buffer.from('kept'),
    });
    const fault = await fetch(`${mesh.url}/messageexchange/admin/fault`, {
      method: 'PUT',
      body: JSON.stringify({ status: 503 }),
    });
    assert.equal(fault.status, 200);
    const busy = await meshErrorOf(gp.listInbox());
    assert.equal(busy.code, 'mesh-unreachable');
    assert.equal(busy.status, 503);
    assert.equal(busy.retryable, true);
    await fetch(`${mesh.url}/messageexchange/admin/fault`, {
      method: 'PUT',
      body: JSON.stringify({ status: null }),
    });
    await mesh.stop();
    const down = await meshErrorOf(gp.listInbox());
    assert.equal(down.code, 'mesh-unreachable');
    assert.match(down.message, /ECONNREFUSED|UND_ERR_SOCKET/);
    await mesh.start();
    assert.ok((await gp.listInbox()).includes(messageId));
    await gp.acknowledge(messageId);
  });

  it('keeps messages in its data file across a restart', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'mesh-'));
    try {
      const dataFile = path.join(dir, 'messages.json');
      const mailboxes = mesh.mailboxes;
      const first = createMeshServer({ sharedKey: 'k', mailboxes, dataFile });
      const second = createMeshServer({ sharedKey: 'k', mailboxes, dataFile: path.join(dir, 'other.json') });
      assert.equal(second.store.all().length, 0);
      const template: StoredMessage = {
        messageId: 'TEMPLATE',
        messageType: 'DATA',
        from: SERVICE_MAILBOX,
        to: GP_MAILBOX,
        workflowId: 'GPFED_CONSULT_REPORT',
        subject: null,
        localId: null,
        fileName: null,
        contentType: 'application/fhir+json',
        mexContentType: null,
        contentEncoding: null,
        totalChunks: 1,
        chunks: [Buffer.from('{"resourceType":"Bundle"}')],
        status: 'accepted',
        createdAt: new Date().toISOString(),
        statusAt: new Date().toISOString(),
        acknowledgedAt: null,
        linkedMessageId: null,
        statusCode: null,
        statusEvent: null,
        statusDescription: null,
      };
      first.store.add({ ...template, messageId: 'KEPT_1' });
      // a chunked upload and then its acknowledgement, each one line of the journal
      first.store.add({
        ...template,
        messageId: 'KEPT_2',
        status: 'uploading',
        totalChunks: 2,
        chunks: [Buffer.from('one'), null],
      });
      const chunked = first.store.get('KEPT_2')!;
      first.store.putChunk(chunked, 1, Buffer.from('two'));
      const before = statSync(dataFile).size;
      Object.assign(chunked, { status: 'acknowledged', acknowledgedAt: new Date().toISOString() });
      first.store.update(chunked);
      // a change costs its own line, not the mailbox written again
      assert.ok(
        statSync(dataFile).size - before < 1000,
        `${statSync(dataFile).size - before} bytes for one change`,
      );
      appendFileSync(dataFile, '{"message":{"messageId":"TORN_BY_A_KIL'); // killed mid-write
      const restarted = createMeshServer({ sharedKey: 'k', mailboxes, dataFile });
      assert.deepEqual(restarted.store.get('KEPT_1')?.chunks, template.chunks);
      assert.deepEqual(restarted.store.get('KEPT_2')?.chunks, [Buffer.from('one'), Buffer.from('two')]);
      assert.equal(restarted.store.get('KEPT_2')?.status, 'acknowledged');
      assert.equal(restarted.store.all().length, 2);
      // a file as the earlier version wrote it (the whole store, once) is read too
      const whole = path.join(dir, 'whole.json');
      writeFileSync(
        whole,
        JSON.stringify({ messages: [{ ...template, messageId: 'OLD_1', chunks: ['b2xk'] }] }),
      );
      const fromWhole = createMeshServer({ sharedKey: 'k', mailboxes, dataFile: whole });
      assert.deepEqual(fromWhole.store.get('OLD_1')?.chunks, [Buffer.from('old')]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('the local MESH server over mutual TLS, as MESH is reached', () => {
  let dir: string;
  let pem: Record<
    'ca' | 'serverCert' | 'serverKey' | 'clientCert' | 'clientKey' | 'otherCert' | 'otherKey',
    string
  >;
  let mesh: RunningLocalMesh;

  before(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'mesh-tls-'));
    const openssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
    const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'ca.key',
      '-out',
      'ca.crt',
      '-days',
      '1',
      '-subj',
      '/CN=Test MESH CA',
    );
    writeFileSync(path.join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1\n');
    const signed = (name: string, subject: string, ext?: string) => {
      openssl('req', ...ec, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', subject);
      openssl(
        'x509',
        '-req',
        '-in',
        `${name}.csr`,
        '-CA',
        'ca.crt',
        '-CAkey',
        'ca.key',
        '-CAcreateserial',
        '-out',
        `${name}.crt`,
        '-days',
        '1',
        ...(ext ? ['-extfile', ext] : []),
      );
    };
    signed('server', '/CN=127.0.0.1', 'server.ext');
    signed('client', `/CN=${SERVICE_MAILBOX}`);
    // a certificate no one here signed
    openssl(
      'req',
      '-x509',
      ...ec,
      '-keyout',
      'other.key',
      '-out',
      'other.crt',
      '-days',
      '1',
      '-subj',
      '/CN=Someone',
    );
    const read = (file: string) => readFileSync(path.join(dir, file), 'utf8');
    pem = {
      ca: read('ca.crt'),
      serverCert: read('server.crt'),
      serverKey: read('server.key'),
      clientCert: read('client.crt'),
      clientKey: read('client.key'),
      otherCert: read('other.crt'),
      otherKey: read('other.key'),
    };
    mesh = await startLocalMesh({ tls: { cert: pem.serverCert, key: pem.serverKey, ca: pem.ca } });
  });
  after(async () => {
    await mesh?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  const handshake = async (tls?: { cert: string; key: string; ca?: string }) => {
    const client = createMeshClient({
      ...mesh.credentials(SERVICE_MAILBOX),
      tls,
      outbound,
      timeoutMs: 10_000,
    });
    try {
      await client.handshake();
    } finally {
      await client.close();
    }
  };

  it('answers a client with the mailbox certificate that trusts the environment CA', async () => {
    assert.match(mesh.url, /^https:/);
    await handshake({ cert: pem.clientCert, key: pem.clientKey, ca: pem.ca });
  });

  it('refuses the connection of a client without a certificate, or with one its CA did not sign', async () => {
    // the CA alone: the type asks for a certificate, a misconfigured deployment might not give one
    const withoutCert = await meshErrorOf(
      handshake({ ca: pem.ca } as { cert: string; key: string; ca: string }),
    );
    assert.match(withoutCert.message, /UND_ERR_SOCKET|ECONNRESET|CERT|ALERT/);
    assert.equal(withoutCert.code, 'mesh-unreachable');
    const strangers = await meshErrorOf(handshake({ cert: pem.otherCert, key: pem.otherKey, ca: pem.ca }));
    assert.equal(strangers.code, 'mesh-unreachable');
    assert.match(strangers.message, /UND_ERR_SOCKET|ECONNRESET|CERT|ALERT/);
  });

  it('is not trusted by a client that was not given the environment CA', async () => {
    const untrusted = await meshErrorOf(handshake({ cert: pem.clientCert, key: pem.clientKey }));
    assert.equal(untrusted.code, 'mesh-unreachable');
    assert.match(untrusted.message, /SELF_SIGNED|UNABLE_TO|CERT/);
  });
});
