/**
 * GP Connect Send Document summaries per second end to end through the record worker, against MESH
 * alone in the same run. End to end: closed consultations in PostgreSQL → bull on Redis → the record
 * worker process (report PDF rendered, ITK3 message built and validated, recorded, sent to the MESH
 * stand-in process, `sent`) → the simulated GP system process (polls its mailbox, validates, answers
 * 20013 then 30001 over MESH) → the worker's ack poller (reads its inbox, applies each in a
 * transaction, acknowledges) → `filed`. The baseline: the MESH stand-in accepting the same kind of
 * message posted straight at it. Also: how long the worker takes to start and to send its first
 * message (the STU3 schema is compiled at start, not by the first message), and where each
 * message's time went, from the database's timestamps. Prints figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type pg from 'pg';
import { createWriteBackQueue, enqueueWriteBack, type WriteBackQueue } from '@gpc/record';
import { createMeshClient, type MeshClient } from '@gpc/record/mesh';
import { buildSendDocumentMessage, renderConsultationReportPdf } from '@gpc/record/send-document';
import { freezeSummaryVersion, migrateDatabase } from '@gpc/triage';
import { createTestDatabase, freePort, medicalAnswers, seedPractice } from '@gpc/test-support';
import { sendDocumentInput } from '../../record/test/support/send-document';
import { benchRecordWorkerEnv } from './support/record-worker';

const count = Number(process.env.BENCH_MESH_MESSAGES ?? 100);
const concurrency = 10;
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const repoRoot = path.resolve(import.meta.dirname, '../..');
const SERVICE = 'GPCONSULT01';
const GP = 'A81002GP01';
/** Registered at the simulated GP system: every report is filed (30001). */
const REGISTERED = '9434765919';
/** How often the worker reads its inbox and the GP system its mailbox: acks, not polling, are measured. */
const pollIntervalMs = 100;

const perSecond = (n: number, ms: number) => (n / ms) * 1000;
function report(label: string, n: number, ms: number): number {
  console.log(
    `${label.padEnd(66)} ${perSecond(n, ms).toFixed(1).padStart(8)} /s   (${n} in ${(ms / 1000).toFixed(2)} s)`,
  );
  return perSecond(n, ms);
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 900_000) {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** A service from this repo in its own process, as `npm start` runs it; resolves to its stop. */
async function startService(entry: string, env: Record<string, string>, readyUrl: string) {
  const child = spawn(process.execPath, ['--import', 'tsx', entry], {
    cwd: repoRoot,
    env: { PATH: process.env.PATH ?? '', ...env },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitUntil(async () => (await fetch(readyUrl).catch(() => undefined))?.ok === true, readyUrl, 120_000);
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}

/** Runs `task(i)` for i in 0..n-1, `concurrency` at a time. */
async function inParallel(n: number, task: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) await task(next++);
    }),
  );
}

/** A report message as the transport makes one (same builder, same PDF), for the MESH-alone baseline. */
async function sampleMessage(): Promise<Buffer> {
  const input = sendDocumentInput({ nhsNumber: REGISTERED, messageId: undefined, documentId: undefined });
  const pdf = await renderConsultationReportPdf(input);
  return Buffer.from(JSON.stringify(buildSendDocumentMessage({ ...input, pdf }).bundle));
}

/**
 * What a clinician's close leaves at a practice filing by Send Document: closed consultations of a
 * patient the GP system has registered, identity confirmed, each with its summary version frozen
 * and a pending write-back on the practice's transport.
 */
async function closeConsultations(
  pool: pg.Pool,
  practice: { id: string; clinicianId: string },
  n: number,
  first = 1,
) {
  const { rows } = await pool.query<{ id: string }>(
    `INSERT INTO consultation (practice_id, reference, kind, patient_given_name, patient_family_name, patient_birth_date,
        patient_nhs_number, questionnaire_response, status, closed_at, closed_by, outcome_code, outcome_display, summary,
        identity_status, identity_confirmed_at, identity_confirmed_nhs_number)
     SELECT $1, 'GPC-M' || lpad(i::text, 8, '0'), 'medical', 'Asha', 'Khan', '1980-02-03',
            $2, $3, 'closed', now(), $4, '182836005', 'Review of medication',
            'Medication reviewed; no change. Review in six months.', 'verified', now(), $2
       FROM generate_series($6::int, $6::int + $5::int - 1) AS i
     RETURNING id`,
    [practice.id, REGISTERED, JSON.stringify(medicalAnswers()), practice.clinicianId, n, first],
  );
  for (const row of rows) {
    const version = await freezeSummaryVersion(pool, practice.id, row.id);
    await pool.query(
      `INSERT INTO write_back (consultation_id, practice_id, status, transport, summary_version_id)
       VALUES ($1, $2, 'pending', 'gp-connect-send-document', $3)`,
      [row.id, practice.id, version.id],
    );
  }
  return rows.map((row) => ({ consultationId: row.id, practiceId: practice.id }));
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.floor(sorted.length / 2)]! : NaN;
};
const p95 = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * 0.95))]! : NaN;
};

/** Where the time of each message went, from the rows' own timestamps (PostgreSQL's clock). */
async function stages(pool: pg.Pool, enqueuedAt: Date): Promise<void> {
  const { rows } = await pool.query<{ to_sent: number; to_infrastructure: number; to_business: number }>(
    `SELECT extract(epoch FROM m.sent_at - $1) * 1000 AS to_sent,
            extract(epoch FROM m.infrastructure_at - m.sent_at) * 1000 AS to_infrastructure,
            extract(epoch FROM m.business_at - m.infrastructure_at) * 1000 AS to_business
       FROM send_document_message m JOIN write_back w ON w.itk_message_id = m.itk_message_id
      WHERE w.status = 'filed' AND m.sent_at >= $1`,
    [enqueuedAt],
  );
  const line = (label: string, values: number[]) =>
    console.log(
      `  ${label.padEnd(58)} median ${median(values).toFixed(0).padStart(6)} ms, p95 ${p95(values).toFixed(0).padStart(6)} ms`,
    );
  line(
    'queued → sent (built, validated, MESH took it; queueing included)',
    rows.map((r) => Number(r.to_sent)),
  );
  line(
    'sent → 20013 applied (GP system polled, answered; we polled)',
    rows.map((r) => Number(r.to_infrastructure)),
  );
  line(
    '20013 → 30001 applied (filed)',
    rows.map((r) => Number(r.to_business)),
  );
}

async function main() {
  const dir = mkdtempSync(path.join(tmpdir(), 'bench-mesh-'));
  const stops: (() => Promise<void>)[] = [];
  const clients: MeshClient[] = [];
  const db = await createTestDatabase();
  let queue: WriteBackQueue | undefined;
  try {
    await migrateDatabase(db.url);
    const seeded = await seedPractice(db.pool, 'M81002');
    await db.pool.query(
      `UPDATE practice SET write_back_transport = 'gp-connect-send-document', mesh_recipient_mailbox = $2,
              send_document_recipient_ods = 'A81002' WHERE id = $1`,
      [seeded.id, GP],
    );
    const practice = { id: seeded.id, clinicianId: seeded.staff.clinician.id };

    const [meshPort, inboxPort, workerPort] = [await freePort(), await freePort(), await freePort()];
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
    const sample = await sampleMessage();
    console.log(
      `send-document over MESH: ${count} summaries, ${concurrency} in flight; the MESH stand-in, the simulated GP system ` +
        `and the record worker each in their own process (2 cores shared); one report message: ${(sample.length / 1024).toFixed(0)} KiB`,
    );

    // 1. MESH alone: the same kind of message posted straight at the stand-in, then cleared from the mailbox
    const service = client(SERVICE);
    let started = performance.now();
    await inParallel(count, async () => {
      await service.send({ to: GP, workflowId: 'GPFED_CONSULT_REPORT', body: sample });
    });
    const meshAlone = report(
      'MESH stand-in alone: messages posted straight at it',
      count,
      performance.now() - started,
    );
    const gp = client(GP);
    for (const id of await gp.listInbox()) await gp.acknowledge(id);

    // 2. end to end: the GP system process polls its mailbox, the record worker files
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
          GP_INBOX_POLL_INTERVAL_MS: String(pollIntervalMs),
        },
        `http://127.0.0.1:${inboxPort}/health`,
      ),
    );
    const prefix = `gpc-bench-${randomUUID()}`;
    const spawnedAt = performance.now();
    stops.unshift(
      await startService(
        'record/src/server.ts',
        {
          ...benchRecordWorkerEnv({ port: workerPort, databaseUrl: db.url, redisUrl, prefix, concurrency }),
          RECORD_OUTBOUND_ALLOW_LOOPBACK_HTTP: 'true',
          RECORD_MESH_URL: meshUrl,
          RECORD_MESH_MAILBOX_ID: SERVICE,
          RECORD_MESH_PASSWORD: passwords[SERVICE] ?? '',
          RECORD_MESH_SHARED_KEY: sharedKey,
          RECORD_MESH_POLL_INTERVAL_MS: String(pollIntervalMs),
        },
        `http://127.0.0.1:${workerPort}/health`,
      ),
    );
    console.log(
      `  record worker: started and answering /health in ${((performance.now() - spawnedAt) / 1000).toFixed(2)} s`,
    );
    queue = createWriteBackQueue(redisUrl, { prefix });
    const count_ = async (status: string) =>
      (
        await db.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM write_back WHERE status = $1`, [
          status,
        ])
      ).rows[0]!.n;

    // the first message of a fresh worker, alone: what a clinician's first close after a deploy waits
    const [first] = await closeConsultations(db.pool, practice, 1);
    started = performance.now();
    await enqueueWriteBack(queue, first!);
    await waitUntil(async () => (await count_('pending')) === 0, 'the first write-back sent');
    const firstSent = performance.now() - started;
    await waitUntil(async () => (await count_('filed')) === 1, 'the first write-back filed');
    console.log(
      `  first write-back of the fresh worker: queued → sent ${firstSent.toFixed(0)} ms, → filed ${(performance.now() - started).toFixed(0)} ms`,
    );

    const jobs = await closeConsultations(db.pool, practice, count, 2);
    const enqueuedAt = (await db.pool.query<{ now: Date }>('SELECT now()')).rows[0]!.now;
    started = performance.now();
    for (const job of jobs) await enqueueWriteBack(queue, job);
    await waitUntil(async () => (await count_('filed')) >= count + 1, 'every write-back filed');
    const endToEnd = report(
      'end to end: queued → worker → MESH → GP system → acks → filed',
      count,
      performance.now() - started,
    );
    await stages(db.pool, enqueuedAt);
    const states = await db.pool.query<{ status: string; n: number; attempts: number }>(
      'SELECT status, count(*)::int AS n, max(attempts) AS attempts FROM write_back GROUP BY status',
    );
    console.log(`  write_back rows: ${JSON.stringify(states.rows)}`);
    console.log(`ratio end to end / MESH stand-in alone:   ${(endToEnd / meshAlone).toFixed(3)}`);
  } finally {
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    for (const made of clients) await made.close();
    for (const stop of stops) await stop();
    await db.drop();
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
