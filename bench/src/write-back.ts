/**
 * Write-backs per second end to end (closed consultation in PostgreSQL → bull on Redis → the record
 * worker process → validated transaction bundle → the local FHIR server process → `filed`), against,
 * in the same run: a bare bull no-op job rate on the same Redis, and the rate the FHIR server itself
 * accepts the same kind of bundle posted straight at it. Prints figures; asserts nothing.
 */
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Queue from 'bull';
import type pg from 'pg';
import {
  buildWriteBackBundle,
  createWriteBackQueue,
  enqueueWriteBack,
  FhirClient,
  findBundleProblems,
  loadR4Definitions,
  type FilingData,
} from '@gpc/record';
import { summaryFormat, type SummaryContent } from '@gpc/contracts';
import { freezeSummaryVersion, migrateDatabase, summaryContentHash } from '@gpc/triage';
import {
  createTestDatabase,
  freePort,
  medicalAnswers,
  seedPractice,
  type SeededPractice,
} from '@gpc/test-support';
import { benchRecordWorkerEnv } from './support/record-worker';

const count = Number(process.env.BENCH_WRITE_BACKS ?? 400);
const noOpJobs = Number(process.env.BENCH_BULL_JOBS ?? 5000);
const concurrency = 10;
const practiceCount = 10;
const redisUrl = process.env.TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';
const repoRoot = path.resolve(import.meta.dirname, '../..');

const perSecond = (n: number, ms: number) => (n / ms) * 1000;
function report(label: string, n: number, ms: number): number {
  console.log(
    `${label.padEnd(62)} ${perSecond(n, ms).toFixed(1).padStart(8)} /s   (${n} in ${(ms / 1000).toFixed(2)} s)`,
  );
  return perSecond(n, ms);
}

async function waitUntil(check: () => Promise<boolean> | boolean, what: string, timeoutMs = 600_000) {
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
  await waitUntil(async () => (await fetch(readyUrl).catch(() => undefined))?.ok === true, readyUrl, 60_000);
  return async () => {
    child.kill('SIGTERM');
    await exited;
  };
}

/**
 * What a clinician's close leaves: closed consultations of patients whose identity staff confirmed,
 * with the medical form's answers, and pending write-backs.
 */
async function closeConsultations(pool: pg.Pool, practices: SeededPractice[], n: number) {
  const { rows } = await pool.query<{ id: string; practice_id: string }>(
    `INSERT INTO consultation (practice_id, reference, kind, patient_given_name, patient_family_name, patient_birth_date,
        patient_nhs_number, questionnaire_response, status, closed_at, closed_by, outcome_code, outcome_display, summary,
        identity_status, identity_confirmed_at, identity_confirmed_nhs_number)
     SELECT ($1::uuid[])[1 + i % $3], 'GPC-W' || lpad(i::text, 8, '0'), 'medical', 'Pat', 'Example', '1980-02-03',
            '9434765919', $4, 'closed', now(), ($2::uuid[])[1 + i % $3], '182836005', 'Review of medication',
            'Medication reviewed; no change. Review in six months.', 'verified', now(), '9434765919'
       FROM generate_series(1, $5::int) AS i
     RETURNING id, practice_id`,
    [
      practices.map((p) => p.id),
      practices.map((p) => p.staff.clinician.id),
      practices.length,
      JSON.stringify(medicalAnswers()),
      n,
    ],
  );
  // as the close does: each request's summary version frozen, its write-back naming it
  for (const row of rows) {
    const version = await freezeSummaryVersion(pool, row.practice_id, row.id);
    await pool.query(
      `INSERT INTO write_back (consultation_id, practice_id, status, summary_version_id) VALUES ($1, $2, 'pending', $3)`,
      [row.id, row.practice_id, version.id],
    );
  }
  return rows.map((row) => ({ consultationId: row.id, practiceId: row.practice_id }));
}

/** 1. bull alone: no-op jobs through the same Redis at the same concurrency. */
async function bareBullRate(): Promise<number> {
  const queue = new Queue('bench-no-op', redisUrl, { prefix: `gpc-bench-${randomUUID()}` });
  let done = 0;
  void queue.process(concurrency, () => Promise.resolve(++done));
  await queue.isReady();
  const started = performance.now();
  await queue.addBulk(
    Array.from({ length: noOpJobs }, () => ({ data: {}, opts: { removeOnComplete: true } })),
  );
  await waitUntil(() => done >= noOpJobs, 'the no-op jobs');
  const rate = report('bare bull: no-op jobs', noOpJobs, performance.now() - started);
  await queue.obliterate({ force: true });
  await queue.close();
  return rate;
}

/** 2. the FHIR server alone: the bundles the worker would send, posted straight at it. */
async function fhirServerRate(fhirBase: string, practices: SeededPractice[]): Promise<number> {
  const now = new Date();
  const bundles = Array.from({ length: count }, (_, i) => {
    const practice = practices[i % practices.length]!;
    const content: SummaryContent = {
      format: summaryFormat,
      consultation: {
        id: randomUUID(),
        reference: `GPC-D${String(i).padStart(8, '0')}`,
        kind: 'medical',
        mode: 'online',
        createdAt: now.toISOString(),
      },
      form: { id: randomUUID(), title: 'Ask about a medical problem', url: null, version: null },
      answers: medicalAnswers().item.map((item) => ({
        linkId: item.linkId,
        question: item.linkId,
        answers: [JSON.stringify(Object.values(item.answer[0]!)[0])],
      })),
      messages: [],
      files: [],
      outcome: { code: '182836005', display: 'Review of medication' },
      summary: 'Medication reviewed; no change. Review in six months.',
      closedBy: { id: practice.staff.clinician.id, name: 'Clinician' },
      closedAt: now.toISOString(),
    };
    const data: FilingData = {
      practice: { odsCode: practice.odsCode, name: `Practice ${practice.odsCode}` },
      nhsNumber: '9434765919',
      version: { id: randomUUID(), contentHash: summaryContentHash(content), content },
      documents: [],
    };
    return buildWriteBackBundle(data);
  });
  // the local FHIR server listens on loopback over http: allowed here as in development
  const client = new FhirClient({ timeoutMs: 20_000, outbound: { allowLoopbackHttp: true } });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < bundles.length)
        await client.postTransaction(
          { practiceId: 'bench', baseUrl: fhirBase, auth: { type: 'none' } },
          bundles[next++]!,
        );
    }),
  );
  const rate = report('FHIR server alone: bundles posted straight at it', count, performance.now() - started);
  // what the worker adds per bundle before sending, measured on its own (warm, as in a running worker)
  loadR4Definitions();
  for (const bundle of bundles.slice(0, 50)) findBundleProblems(bundle);
  const validationStarted = performance.now();
  for (const bundle of bundles) findBundleProblems(bundle);
  console.log(
    `  validating one bundle against the R4 definitions: ${((performance.now() - validationStarted) / bundles.length).toFixed(2)} ms CPU`,
  );
  return rate;
}

/** 3. end to end: the record worker process files every closed consultation. */
async function writeBackRate(
  pool: pg.Pool,
  practices: SeededPractice[],
  databaseUrl: string,
): Promise<number> {
  const prefix = `gpc-bench-${randomUUID()}`;
  const jobs = await closeConsultations(pool, practices, count);
  const workerPort = await freePort();
  const stopWorker = await startService(
    'record/src/server.ts',
    benchRecordWorkerEnv({ port: workerPort, databaseUrl, redisUrl, prefix, concurrency }),
    `http://127.0.0.1:${workerPort}/health`,
  );
  const queue = createWriteBackQueue(redisUrl, { prefix });
  try {
    const filed = async () =>
      (await pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM write_back WHERE status = 'filed'`))
        .rows[0]!.n;
    const started = performance.now();
    for (const job of jobs) await enqueueWriteBack(queue, job);
    await waitUntil(async () => (await filed()) >= count, 'every write-back filed');
    const rate = report(
      'end to end: closed → bull → worker → FHIR server → filed',
      count,
      performance.now() - started,
    );
    const states = await pool.query<{ status: string; n: number; attempts: number }>(
      'SELECT status, count(*)::int AS n, max(attempts) AS attempts FROM write_back GROUP BY status',
    );
    console.log(`  write_back rows: ${JSON.stringify(states.rows)}`);
    return rate;
  } finally {
    await queue.obliterate({ force: true }).catch(() => undefined);
    await queue.close();
    await stopWorker();
  }
}

/** A fresh local FHIR server, as `npm start` runs it (saving to a data file), for one measurement. */
async function withFhirServer<T>(run: (fhirBase: string) => Promise<T>): Promise<T> {
  const stateDir = mkdtempSync(path.join(tmpdir(), 'gpc-bench-fhir-'));
  const fhirPort = await freePort();
  const fhirBase = `http://127.0.0.1:${fhirPort}/fhir/R4`;
  const stop = await startService(
    'local/fhir-server/src/server.ts',
    { FHIR_PORT: String(fhirPort), FHIR_DATA_FILE: path.join(stateDir, 'resources.json') },
    `${fhirBase}/metadata`,
  );
  try {
    return await run(fhirBase);
  } finally {
    await stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

const db = await createTestDatabase();
try {
  await migrateDatabase(db.url);
  const practices: SeededPractice[] = [];
  for (let i = 0; i < practiceCount; i++) {
    practices.push(await seedPractice(db.pool, `W${String(i).padStart(5, '0')}`));
  }
  console.log(
    `write-back: ${count} summaries over ${practiceCount} practices, ${concurrency} in flight; ` +
      'a fresh local FHIR server and the record worker each in their own process (2 cores shared)',
  );

  const bull = await bareBullRate();
  const fhir = await withFhirServer((fhirBase) => fhirServerRate(fhirBase, practices));
  const endToEnd = await withFhirServer(async (fhirBase) => {
    await db.pool.query('UPDATE practice SET fhir_base_url = $1', [fhirBase]);
    return writeBackRate(db.pool, practices, db.url);
  });
  console.log(`ratio end to end / bare bull:           ${(endToEnd / bull).toFixed(3)}`);
  console.log(`ratio end to end / FHIR server alone:   ${(endToEnd / fhir).toFixed(2)}   (goal >= 0.8)`);
} finally {
  await db.drop();
}
