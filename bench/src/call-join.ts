/**
 * Join → first frame in Chromium: from the clinician's Admit to the first decoded remote video frame
 * on each side, over 20 joins; then the time for media to flow again after 3-second network cuts.
 * Real pages, real signalling and mediasoup, Debian's Chromium with fake camera and microphone, one
 * Chromium process per side.
 * Prints figures; asserts nothing. The network cuts need root (nftables).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import type { CallTokenClaims } from '@gpc/contracts';
import { CleanupStack, seedConsultation, startTriage } from '@gpc/test-support';
import { startCallNode } from '../../signalling/test/support/call-node';
import { launchBrowser, newLocalPage, startWebServer } from '../../web/test/support/browser';
import { cutNetwork, inboundStats, joinAsPatient, startCallAsClinician } from '../../web/test/support/call';
import { JoinTrace, StepTable } from './support/join-trace';

const joins = Number(process.env.BENCH_JOINS ?? 20);
const cuts = Number(process.env.BENCH_CUTS ?? 5);

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? NaN;
}

const summary = (label: string, values: number[], goal: string) =>
  console.log(
    `${label.padEnd(46)} n=${values.length}  p50 ${Math.round(percentile(values, 50))} ms  p95 ${Math.round(percentile(values, 95))} ms  ` +
      `spread: min ${Math.round(Math.min(...values))}  p25 ${Math.round(percentile(values, 25))}  p75 ${Math.round(percentile(values, 75))}  max ${Math.round(Math.max(...values))}   (${goal})`,
  );

/** The page's call timeline (CallClient's), each step labelled with whose page it was. */
async function pageTimeline(page: Page, who: string): Promise<{ label: string; at: number }[]> {
  const steps = await page.evaluate(() => window.__call?.timeline ?? []);
  return steps.map(({ step, at }) => ({ label: `${who} page: ${step}`, at }));
}

/** Epoch milliseconds at which a remote video new on the page presents its first frame. */
function nextRemoteFrame(page: Page): Promise<number> {
  return page.evaluate(
    () =>
      new Promise<number>((resolve) => {
        // the tile appears with the first remote track, before its first frame; no named functions
        // in here: tsx would wrap them in a helper the page does not have. A tile already there (a
        // patient who went and is still within the reconnect grace period) is not the new one
        const selector = 'video.gpc-video--remote';
        const before = new Set(document.querySelectorAll<HTMLVideoElement>(selector));
        const timer = setInterval(() => {
          const video = [...document.querySelectorAll<HTMLVideoElement>(selector)].find(
            (each) => !before.has(each),
          );
          if (!video) return;
          clearInterval(timer);
          video.requestVideoFrameCallback(() => resolve(performance.timeOrigin + performance.now()));
        }, 5);
      }),
  );
}

/**
 * BENCH_SENDERS=1: samples the page's own video every 100 ms for 3.5 s (the camera track's frames as
 * the media-source stat counts them, frames encoded and sent, key frames, PLIs received, and the
 * limitation reason), to tell a camera that stopped delivering frames from an encoder or pacer that
 * held them. Read with `senderSamples`.
 */
function sampleSender(page: Page): Promise<void> {
  return page.evaluate(() => {
    const samples: string[] = [];
    const start = performance.now();
    (window as unknown as { __senderSamples: string[] }).__senderSamples = samples;
    const timer = setInterval(() => {
      const transport = (
        window.__call as unknown as { sendTransport?: { getStats(): Promise<RTCStatsReport> } }
      )?.sendTransport;
      if (!transport || performance.now() - start > 3500) {
        if (performance.now() - start > 3500) clearInterval(timer);
        return;
      }
      const at = Math.round(performance.now() - start);
      void transport.getStats().then((report) => {
        let source = 0;
        let encoded = 0;
        let sent = 0;
        let keys = 0;
        let plis = 0;
        const reasons = new Set<string>();
        report.forEach((stat: Record<string, unknown>) => {
          if (stat.type === 'media-source' && stat.kind === 'video') source += Number(stat.frames ?? 0);
          if (stat.type === 'outbound-rtp' && stat.kind === 'video') {
            encoded += Number(stat.framesEncoded ?? 0);
            sent += Number(stat.framesSent ?? 0);
            keys += Number(stat.keyFramesEncoded ?? 0);
            plis += Number(stat.pliCount ?? 0);
            reasons.add(
              `${String(stat.qualityLimitationReason)}/${String(stat.encoderImplementation)}/${String(stat.active)}`,
            );
          }
        });
        samples.push(
          `${at}: camera ${source} enc ${encoded} sent ${sent} key ${keys} pli ${plis} ${[...reasons].join(',')}`,
        );
      });
    }, 100);
  });
}

const senderSamples = (page: Page) =>
  page.evaluate(() => (window as unknown as { __senderSamples?: string[] }).__senderSamples ?? []);

/** Milliseconds until frames decoded grows again, polling every 50 ms. */
async function untilFramesGrow(page: Page, timeoutMs = 30_000): Promise<number> {
  const start = Date.now();
  const before = (await inboundStats(page)).framesDecoded;
  while (Date.now() - start < timeoutMs) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    if ((await inboundStats(page)).framesDecoded > before + 1) return Date.now() - start;
  }
  return NaN;
}

// triage makes the call and signs its tokens; the call node verifies them with triage's JWKS
const cleanup = new CleanupStack();
const triage = await startTriage(cleanup, { listen: true });
const node = await startCallNode({ jwksUrl: `${triage.url}/.well-known/jwks.json` });
const web = await startWebServer({ triageUrl: triage.url, signallingUrl: node.url });
const browser = await launchBrowser();
// the patient in a Chromium of their own, as on their own device: in one Chromium both pages share
// one fake camera, which in some joins (6 of 14 in one run) stopped delivering frames to both pages
// from ~0.2 s after Admit to ~2.8 s (the media-source frame counts stood still on both;
// BENCH_SENDERS=1 shows them), which put p95 near 2.9 s. BENCH_ONE_BROWSER=1: one Chromium, as before
const oneBrowser = Boolean(process.env.BENCH_ONE_BROWSER);
const patientBrowser = oneBrowser ? browser : await launchBrowser();
const trace = new JoinTrace(node.media);
const loadNow = () =>
  `load average ${loadavg()
    .map((load) => load.toFixed(2))
    .join(' ')} on ${availableParallelism()} cores`;
console.log(
  `${joins} joins, the pages in ${oneBrowser ? 'one Chromium' : 'a Chromium each'}; at the start: ${loadNow()}`,
);
const steps = new StepTable();
try {
  const clinician = await newLocalPage(browser);
  const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
  const staffToken = triage.as(triage.practiceA, 'clinician').token;
  const firstLink = await startCallAsClinician(clinician, web.url, staffToken, consultationId);
  const first = JSON.parse(
    Buffer.from(new URL(firstLink).hash.split('.')[1] ?? '', 'base64url').toString(),
  ) as CallTokenClaims;
  // each join is a new patient (a link keeps its holder admitted across reconnects): signed as triage signs the first
  const newPatientLink = (patientId: string) =>
    `${web.url}call.html#t=${triage.app.tokens.sign('call', { ...first, sub: patientId }, 600)}`;
  const patientSide: number[] = [];
  const clinicianSide: number[] = [];
  let patient: Page | undefined;
  const earlierPatients = new Set<string>();
  for (let join = 0; join < joins; join++) {
    const joinStartedAt = Date.now();
    const patientId = randomUUID();
    if (process.env.BENCH_TRACE)
      console.log(
        `join ${join}: remote videos on the clinician's page before it: ${await clinician.locator('video.gpc-video--remote').count()}`,
      );
    patient = await newLocalPage(patientBrowser);
    await joinAsPatient(patient, web.url, newPatientLink(patientId));
    const admit = clinician.getByRole('button', { name: 'Admit Pat Example' });
    // generous: on a loaded machine the waiting list can take a while to show
    await admit.waitFor({ timeout: 30_000 }).catch(async (error: unknown) => {
      const seen = await clinician.evaluate(() => ({
        state: window.__call?.currentState,
        step: document.querySelector('main section:not([hidden])')?.id,
        waiting: document.getElementById('waiting-list')?.textContent,
        // what the page went through last, to tell why it is not in the call
        timeline: window.__call?.timeline.slice(-12),
      }));
      console.log(`join ${join}: no Admit button on the clinician's page: ${JSON.stringify(seen)}`);
      throw error;
    });
    // a patient waits in the waiting room a while before a clinician admits them: the page prepares
    // its media meanwhile (a page that does not say so is given up on after 10 s)
    await patient
      .waitForFunction(() => window.__call?.timeline.some(({ step }) => step === 'media ready'), undefined, {
        timeout: 10_000,
      })
      .catch(() => undefined);
    const patientFrame = nextRemoteFrame(patient);
    const clinicianFrame = nextRemoteFrame(clinician);
    if (process.env.BENCH_SENDERS) await Promise.all([sampleSender(patient), sampleSender(clinician)]);
    const admittedAt = Date.now();
    await admit.click();
    const [patientFrameAt, clinicianFrameAt] = [await patientFrame, await clinicianFrame];
    if (process.env.BENCH_SENDERS && Math.max(patientFrameAt, clinicianFrameAt) - admittedAt > 1000) {
      await new Promise((resolve) => setTimeout(resolve, 3600 - (Date.now() - admittedAt)));
      console.log(
        `join ${join}: slow; the patient's sender:\n  ${(await senderSamples(patient)).join('\n  ')}`,
      );
      console.log(
        `join ${join}: the clinician's sender:\n  ${(await senderSamples(clinician)).join('\n  ')}`,
      );
    }
    patientSide.push(patientFrameAt - admittedAt);
    clinicianSide.push(clinicianFrameAt - admittedAt);
    const seenUntil = Math.max(patientFrameAt, clinicianFrameAt) + 50;
    steps.addJoin(
      [
        { label: 'patient page: first remote frame', at: patientFrameAt },
        { label: 'clinician page: first remote frame', at: clinicianFrameAt },
        ...(await pageTimeline(patient, 'patient')),
        ...(await pageTimeline(clinician, 'clinician')),
        ...trace.events.map(({ peerId, step, at }) => ({
          label: `${peerId === patientId ? 'patient' : earlierPatients.has(peerId) ? 'earlier patient' : 'clinician'} ${step}`,
          at,
        })),
      ],
      admittedAt,
      joinStartedAt,
      seenUntil,
    );
    earlierPatients.add(patientId);
    if (join < joins - 1) {
      // hangs up, as a patient does at the end (a page just closed is kept for a reconnect)
      await patient.evaluate(() => window.__call?.leave());
      await patient.close();
      // a patient rarely follows another within a second; mediasoup also spaces key frame requests
      await new Promise((resolve) => setTimeout(resolve, 1500));
    }
  }
  console.log(`at the end of the joins: ${loadNow()}`);
  steps.print(percentile, joins);
  summary('admit -> first remote frame, patient side', patientSide, 'goal p50 <= 300 ms, p95 <= 600 ms');
  summary('admit -> first remote frame, clinician side', clinicianSide, 'goal p50 <= 300 ms, p95 <= 600 ms');

  const recovery: number[] = [];
  for (let cut = 0; cut < cuts && patient; cut++) {
    await cutNetwork(node.rtcPort, 3000);
    const [onPatient, onClinician] = await Promise.all([
      untilFramesGrow(patient),
      untilFramesGrow(clinician),
    ]);
    recovery.push(Math.max(onPatient, onClinician));
    await new Promise((resolve) => setTimeout(resolve, 2000));
  }
  if (recovery.length > 0)
    summary('3 s network cut -> media again on both sides', recovery, 'goal p95 <= 3000 ms');
} finally {
  await browser.close();
  if (patientBrowser !== browser) await patientBrowser.close();
  await web.close();
  await node.close();
  await cleanup.run();
}
