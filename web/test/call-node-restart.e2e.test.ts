import assert from 'node:assert/strict';
import { execFileSync, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { after, describe, it } from 'node:test';
import type { Page } from 'playwright-core';
import {
  freePort,
  seedConsultation,
  startRedis,
  startTriage,
  track,
  waitFor,
  type ChildService,
} from '@gpc/test-support';
import { ensureMediasoupWorker } from '../../scripts/src/mediasoup-worker';
import { launchBrowser, newLocalPage } from './support/browser';
import { startStaticServer } from './support/static';
import { joinAsPatient, mediaFlows, startCallAsClinician } from './support/call';
import {
  backWithoutNewAdmission,
  mediaBackOnNewTransport,
  reception,
  watchStates,
} from './support/call-recovery';

const repoRoot = path.resolve(import.meta.dirname, '../..');

/** A process still running (a zombie waiting for its parent to reap it holds no port: it counts as gone). */
function running(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}

/** The child processes of a process (a call node's mediasoup workers). */
function childrenOf(pid: number): number[] {
  try {
    return execFileSync('pgrep', ['-P', String(pid)], { encoding: 'utf8' })
      .split('\n')
      .filter(Boolean)
      .map(Number);
  } catch {
    return []; // pgrep exits 1 when there are none
  }
}

describe('the call node killed (SIGKILL) during a call and restarted, in Chromium: the pages rejoin by themselves', async () => {
  const triage = await startTriage({ after }, { listen: true });
  // Redis of the test's own: the restarted node finds the call's links and admissions there
  const redis = await startRedis();
  triage.after(() => redis.remove());
  const port = await freePort();
  const rtcPort = await freePort();
  const env = {
    PATH: process.env.PATH ?? '',
    MEDIASOUP_WORKER_BIN:
      process.env.MEDIASOUP_WORKER_BIN ?? (await ensureMediasoupWorker({ log: () => undefined })),
    SIGNALLING_PORT: String(port),
    SIGNALLING_RTC_PORT: String(rtcPort),
    SIGNALLING_JWKS_URL: `${triage.url}/.well-known/jwks.json`,
    SIGNALLING_REDIS_URL: redis.url,
    SIGNALLING_LOG_LEVEL: 'warn',
  };
  const url = `http://127.0.0.1:${port}`;
  /** The call node as production runs it (`signalling/src/server.ts`), in a process of its own. */
  const startNode = async (): Promise<ChildService> => {
    const started = track(
      spawn(process.execPath, ['--import', 'tsx', 'signalling/src/server.ts'], {
        cwd: repoRoot,
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }),
    );
    try {
      // it compiles its TypeScript first (tsx): long on a loaded machine
      await waitFor(
        () => `the call node to answer /health: ${started.output()}`,
        async () => {
          if (started.child.exitCode !== null) throw new Error(`the call node exited: ${started.output()}`);
          return (await fetch(`${url}/health`).catch(() => undefined))?.status === 200;
        },
        { timeoutMs: 60_000, intervalMs: 50 },
      );
    } catch (error) {
      // a node left running would keep this test file's process alive after it failed
      await started.kill();
      throw error;
    }
    return started;
  };
  let node = await startNode();
  triage.after(() => node.stop());
  const web = await startStaticServer({ triageUrl: triage.url, signallingUrl: url });
  triage.after(() => web.close());
  const browser = await launchBrowser();
  triage.after(() => browser.close());

  const newPage = () => newLocalPage(browser);
  const inCall = (page: Page, timeout = 15_000) =>
    page.waitForFunction(() => window.__call?.currentState === 'in-call', undefined, { timeout });

  it('brings both pages back into the call after the call node is killed and restarted, showing Reconnecting meanwhile, with no new admission', async (t) => {
    const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
    const clinician = await newPage();
    const token = triage.as(triage.practiceA, 'clinician').token;
    const patientLink = await startCallAsClinician(clinician, web.url, token, consultationId);
    const patient = await newPage();
    await joinAsPatient(patient, web.url, patientLink);
    await clinician.getByRole('button', { name: 'Admit Pat Example' }).click();
    await inCall(patient);
    await mediaFlows(patient, 'patient', 30_000);
    await mediaFlows(clinician, 'clinician', 30_000);
    for (const page of [clinician, patient]) await watchStates(page);
    const [clinicianBefore, patientBefore] = await Promise.all([reception(clinician), reception(patient)]);

    // SIGKILL: no shutdown handler runs; its mediasoup workers go when their channel to it closes
    const workers = childrenOf(node.child.pid!);
    assert.ok(workers.length >= 1, 'the call node runs its mediasoup worker as a child process');
    const killedAt = Date.now();
    await node.kill();
    await waitFor('the killed node’s mediasoup workers to exit', () => !workers.some(running), {
      timeoutMs: 10_000,
    });
    // both pages say they are reconnecting while the node is away
    for (const page of [clinician, patient])
      await page.locator('#reconnecting').waitFor({ state: 'visible', timeout: 10_000 });

    node = await startNode();
    const restartedAt = Date.now();
    const [clinicianBack, patientBack] = await Promise.all([
      mediaBackOnNewTransport(clinician, 'clinician after the restart', clinicianBefore, 30_000),
      mediaBackOnNewTransport(patient, 'patient after the restart', patientBefore, 30_000),
    ]);
    const report =
      `node down for ${restartedAt - killedAt} ms (kill to /health answering); media back after the restart: ` +
      `clinician ${clinicianBack - restartedAt} ms, patient ${patientBack - restartedAt} ms`;
    t.diagnostic(report);
    console.log(`call recovery after the call node was killed and restarted: ${report}`);

    await backWithoutNewAdmission(patient, clinician, 'after the restart');
    assert.equal(await patient.locator('#reconnecting').isVisible(), false);
    assert.equal(await clinician.locator('#reconnecting').isVisible(), false);
  });
});
