/**
 * GP Connect Send Document summaries per second through MESH end to end, against the rate the MESH
 * stand-in takes the same messages posted straight at it, in the same run. End to end: a report's
 * PDF rendered, its ITK3 message built and validated, sent to the MESH stand-in process, picked up by
 * the simulated GP system process (which validates it and answers 20013 then 30001 over MESH), and
 * both acknowledgements read back from our MESH inbox and acknowledged. The record worker's own
 * database work is not in it (bench/src/write-back.ts measures that for the FHIR route). Prints
 * figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createMeshClient, type MeshClient } from '@gpc/record/mesh';
import {
  assertValidItkMessage,
  buildSendDocumentMessage,
  parseItkAcknowledgement,
  renderConsultationReportPdf,
} from '@gpc/record/send-document';
import { freePort } from '@gpc/test-support';
import { sendDocumentInput } from '../../record/test/support/send-document';

const count = Number(process.env.BENCH_MESH_MESSAGES ?? 100);
const concurrency = 10;
const repoRoot = path.resolve(import.meta.dirname, '../..');
const SERVICE = 'GPCONSULT01';
const GP = 'A81002GP01';
const REGISTERED = '9434765919';

const perSecond = (n: number, ms: number) => (n / ms) * 1000;
function report(label: string, n: number, ms: number): void {
  console.log(
    `${label.padEnd(62)} ${perSecond(n, ms).toFixed(1).padStart(8)} /s   (${n} in ${(ms / 1000).toFixed(2)} s)`,
  );
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 600_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function startService(entry: string, env: Record<string, string>, readyUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitUntil(async () => (await fetch(readyUrl).catch(() => undefined))?.ok === true, readyUrl, 60_000);
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}

/** Runs `task(i)` for i in 0..n-1, `concurrency` at a time. */
async function pool(n: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** Time spent making reports, to tell where end-to-end time goes. */
const spent = { pdfMs: 0, validateMs: 0, made: 0 };

/** One report as the transport makes it: PDF, ITK3 message, validation, the bytes MESH carries. */
async function reportMessage(): Promise<{ body: Buffer; itkMessageId: string }> {
  const input = sendDocumentInput({
    nhsNumber: REGISTERED,
    messageId: undefined,
    documentId: undefined,
    now: new Date(),
  });
  let at = Date.now();
  const pdf = await renderConsultationReportPdf(input);
  spent.pdfMs += Date.now() - at;
  const { bundle, messageId } = buildSendDocumentMessage({ ...input, pdf });
  at = Date.now();
  assertValidItkMessage(bundle);
  spent.validateMs += Date.now() - at;
  spent.made++;
  return { body: Buffer.from(JSON.stringify(bundle)), itkMessageId: messageId };
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-mesh-'));
  const stops: (() => Promise<void>)[] = [];
  const clients: MeshClient[] = [];
  try {
    const [meshPort, inboxPort] = [await freePort(), await freePort()];
    const sharedKey = randomBytes(12).toString('hex');
    const passwords: Record<string, string> = {
      [SERVICE]: randomBytes(9).toString('hex'),
      [GP]: randomBytes(9).toString('hex'),
    };
    const mailboxesFile = path.join(dir, 'mailboxes.json');
    writeFileSync(
      mailboxesFile,
      JSON.stringify([
        { mailboxId: SERVICE, password: passwords[SERVICE], workflows: ['GPFED_CONSULT_REPORT_ACK'] },
        { mailboxId: GP, password: passwords[GP], workflows: ['GPFED_CONSULT_REPORT'] },
      ]),
    );
    const meshUrl = `http://127.0.0.1:${meshPort}`;
    stops.push(
      await startService(
        'local/mesh-server/src/server.ts',
        { MESH_PORT: String(meshPort), MESH_SHARED_KEY: sharedKey, MESH_MAILBOXES_FILE: mailboxesFile },
        `${meshUrl}/messageexchange/_ping`,
      ),
    );
    const client = (mailboxId: string) => {
      const made = createMeshClient({
        url: meshUrl,
        mailboxId,
        password: passwords[mailboxId] ?? '',
        sharedKey,
        outbound: { allowLoopbackHttp: true },
      });
      clients.push(made);
      return made;
    };
    const service = client(SERVICE);
    const gp = client(GP);
    const sample = await reportMessage();
    console.log(`one report message: ${(sample.body.length / 1024).toFixed(0)} KiB`);

    // MESH alone: the same message posted straight at the stand-in, then taken out of the inbox
    let started = Date.now();
    await pool(count, async () => {
      await service.send({ to: GP, workflowId: 'GPFED_CONSULT_REPORT', body: sample.body });
    });
    report('MESH stand-in: messages accepted, posted straight at it', count, Date.now() - started);
    for (const id of await gp.listInbox()) await gp.acknowledge(id);

    // end to end: the GP system process polls the mailbox from here on
    stops.unshift(
      await startService(
        'local/gp-inbox/src/server.ts',
        {
          GP_INBOX_PORT: String(inboxPort),
          GP_INBOX_MESH_URL: meshUrl,
          GP_INBOX_MAILBOX_ID: GP,
          GP_INBOX_PASSWORD: passwords[GP] ?? '',
          GP_INBOX_SHARED_KEY: sharedKey,
          GP_INBOX_OUTBOUND_ALLOW_LOOPBACK_HTTP: 'true',
          GP_INBOX_ODS_CODE: 'A81002',
          GP_INBOX_REGISTERED_PATIENTS: REGISTERED,
          GP_INBOX_POLL_INTERVAL_MS: '100',
        },
        `http://127.0.0.1:${inboxPort}/health`,
      ),
    );
    const filed = new Set<string>();
    started = Date.now();
    const sending = pool(count, async () => {
      const { body } = await reportMessage();
      await service.send({
        to: GP,
        workflowId: 'GPFED_CONSULT_REPORT',
        body,
        contentType: 'application/fhir+json',
      });
    });
    await waitUntil(async () => {
      for (const id of await service.listInbox()) {
        const ack = parseItkAcknowledgement((await service.download(id)).body);
        if (ack.code === '30001') filed.add(ack.acknowledgedMessageId);
        await service.acknowledge(id);
      }
      return filed.size >= count;
    }, `${count} business acknowledgements`);
    await sending;
    report('through MESH end to end: built, sent, filed (30001 read back)', count, Date.now() - started);
    console.log(
      `  of which, per report on the sending side: PDF ${(spent.pdfMs / spent.made).toFixed(0)} ms, ITK3 validation ${(spent.validateMs / spent.made).toFixed(0)} ms (${concurrency} at a time)`,
    );
  } finally {
    for (const made of clients) await made.close();
    for (const stop of stops) await stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
