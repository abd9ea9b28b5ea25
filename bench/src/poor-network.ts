/**
 * A patient on a poor network, in Chromium: what they hear and see, and what the clinician gets
 * from them. This kernel has no netem, so the patient's media crosses the user-space impairment
 * relay (test-support/src/impairment-relay.ts: a bottleneck with a queue, loss, delay, jitter per
 * direction) while the clinician's passes untouched. Scenarios, each a fresh join measured for
 * BENCH_POOR_SECONDS (30 unless said) after admission, next to an unimpaired baseline run alike:
 * 300 kbps with 3 % loss and 150 ms round trip; 1 Mbps with 1 % loss; and 10 s at 100 kbps in the
 * middle of an otherwise clear call. From getStats: the share of audio samples concealed, video
 * frames per second, freezes (count and total time) and the longest gap between frames shown, all
 * after the first 5 s; time to recover. Prints figures; asserts nothing.
 *
 * BENCH_POOR_SECONDS (30), BENCH_POOR_ONLY (a comma-separated list of words: only the scenarios
 * whose name contains one, e.g. `baseline,drop`), BENCH_POOR_TRACE=1 (every second of each
 * scenario: what crossed the relay each way and what its queue dropped, the call node's estimate
 * of the path to the patient and the layers it sends each side, the patient's sender's own
 * estimate and what it sends, and what each page received).
 */
import { randomUUID } from 'node:crypto';
import { availableParallelism, loadavg } from 'node:os';
import type { Page } from 'playwright-core';
import type { CallTokenClaims } from '@gpc/contracts';
import {
  CleanupStack,
  seedConsultation,
  startTriage,
  type Impairment,
  type ImpairmentRelay,
  type LinkCounters,
} from '@gpc/test-support';
import { launchBrowser, newLocalPage } from '../../web/test/support/browser';
import { startStaticServer } from '../../web/test/support/static';
import { joinAsPatient, startCallAsClinician } from '../../web/test/support/call';
import {
  receivedMedia,
  startImpairedCallNode,
  type ImpairedCallNode,
  type ReceivedMedia,
} from '../../web/test/support/impairment';

const seconds = Number(process.env.BENCH_POOR_SECONDS ?? 30);
const only = (process.env.BENCH_POOR_ONLY ?? '')
  .split(',')
  .map((word) => word.trim().toLowerCase())
  .filter((word) => word.length > 0);
const trace = process.env.BENCH_POOR_TRACE === '1';
/** The start of each call is left out of the figures: the goals count from 5 s. */
const settleSeconds = 5;

interface Scenario {
  name: string;
  /** The patient's link, from admission. */
  impairment: Impairment;
  /** A change at a time after admission (seconds) to another impairment: the drop and its end. */
  changes?: { at: number; impairment: Impairment }[];
}

const both = (link: Impairment['up']): Impairment => ({ up: link, down: link });
const clear: Impairment = { up: {}, down: {} };
const dropAt = 10;
const dropFor = 10;
const allScenarios: Scenario[] = [
  { name: 'baseline (no impairment)', impairment: clear },
  {
    name: '300 kbps, 3 % loss, 150 ms RTT',
    impairment: both({ rateKbps: 300, lossPercent: 3, delayMs: 75, jitterMs: 10 }),
  },
  { name: '1 Mbps, 1 % loss', impairment: both({ rateKbps: 1000, lossPercent: 1 }) },
  {
    name: `${dropFor} s drop to 100 kbps at ${dropAt} s`,
    impairment: clear,
    changes: [
      { at: dropAt, impairment: both({ rateKbps: 100 }) },
      { at: dropAt + dropFor, impairment: clear },
    ],
  },
];
const scenarios = allScenarios.filter(
  ({ name }) => only.length === 0 || only.some((word) => name.toLowerCase().includes(word)),
);

/** A remote video that came after `markOldTiles`: the new patient's, not one still going away. */
const newTile = 'video.gpc-video--remote:not([data-old])';

const markOldTiles = (page: Page) =>
  page.evaluate(() => {
    for (const video of document.querySelectorAll('video.gpc-video--remote'))
      video.setAttribute('data-old', '');
  });

/** Watches the new remote video: the longest gap between frames it presents from now on, in `window.__gaps`. */
async function watchFrames(page: Page): Promise<void> {
  await page.evaluate((selector) => {
    // no named functions in here: tsx would wrap them in a helper the page does not have
    const video = document.querySelector<HTMLVideoElement>(selector);
    const gaps = { last: performance.now(), longest: 0, from: performance.now() };
    (window as unknown as { __gaps: typeof gaps }).__gaps = gaps;
    if (!video) return;
    // a member assignment, not a const: esbuild names only the latter
    const loop: { onFrame?: () => void } = {};
    loop.onFrame = () => {
      const now = performance.now();
      gaps.longest = Math.max(gaps.longest, now - gaps.last);
      gaps.last = now;
      video.requestVideoFrameCallback(loop.onFrame!);
    };
    video.requestVideoFrameCallback(loop.onFrame);
  }, newTile);
}

/** The longest gap between presented frames since `watchFrames` (or its last reset), ending now. */
const longestGap = (page: Page, reset = false): Promise<number> =>
  page.evaluate((again) => {
    const gaps = (window as unknown as { __gaps?: { last: number; longest: number } }).__gaps;
    if (!gaps) return NaN;
    const longest = Math.max(gaps.longest, performance.now() - gaps.last);
    if (again) gaps.longest = 0;
    return longest;
  }, reset);

/** What a page's sending transport put out so far, and its own estimate of the path (Chromium's getStats). */
interface SentMedia {
  at: number;
  audioBytes: number;
  videoBytes: number;
  /** The sender's congestion controller's estimate (the selected candidate pair's), kbps. */
  estimateKbps: number;
  /** Encodings sending now (the simulcast layers the sender keeps up). */
  activeLayers: number;
}

const sentMedia = (page: Page): Promise<SentMedia> =>
  page.evaluate(async () => {
    const sent = { at: Date.now(), audioBytes: 0, videoBytes: 0, estimateKbps: NaN, activeLayers: 0 };
    const transport = (
      window.__call as unknown as { sendTransport?: { closed: boolean; getStats(): Promise<RTCStatsReport> } }
    ).sendTransport;
    if (!transport || transport.closed) return sent;
    const report = await transport.getStats();
    report.forEach((entry: Record<string, number | string | boolean | undefined>) => {
      if (entry.type === 'outbound-rtp') {
        const bytes = Number(entry.bytesSent ?? 0) + Number(entry.headerBytesSent ?? 0);
        if (entry.kind === 'audio') sent.audioBytes += bytes;
        else {
          sent.videoBytes += bytes;
          if (entry.active !== false && Number(entry.framesPerSecond ?? 0) > 0) sent.activeLayers++;
        }
      }
      if (entry.type === 'candidate-pair' && entry.nominated && entry.availableOutgoingBitrate !== undefined)
        sent.estimateKbps = Number(entry.availableOutgoingBitrate) / 1000;
    });
    return sent;
  });

/** The call node's view of a participant: the estimate of the path to them, and the layers it sends them. */
async function nodeView(impaired: ImpairedCallNode, participantId: string) {
  const view = {
    estimateKbps: NaN,
    sendKbps: NaN,
    rtxKbps: NaN,
    probationKbps: NaN,
    receivedKbps: NaN,
    lossReceived: NaN,
    maxIncomingKbps: NaN,
    layers: '-',
  };
  for (const transport of impaired.transports(participantId)) {
    const [stats] = await transport.getStats().catch(() => []);
    if (!stats) continue;
    if (transport.appData.direction === 'recv') {
      view.estimateKbps = (stats.availableOutgoingBitrate ?? NaN) / 1000;
      view.sendKbps = stats.sendBitrate / 1000;
      view.rtxKbps = (stats.rtxSendBitrate ?? NaN) / 1000;
      view.probationKbps = (stats.probationSendBitrate ?? NaN) / 1000;
    } else {
      view.receivedKbps = stats.recvBitrate / 1000;
      // in the worker's stats (transport-cc feedback's loss), not in the typings of this mediasoup
      view.lossReceived = (stats as { rtpPacketLossReceived?: number }).rtpPacketLossReceived ?? NaN;
      view.maxIncomingKbps = (stats.maxIncomingBitrate ?? NaN) / 1000;
    }
  }
  const video = impaired
    .videoConsumers(participantId)
    .filter((consumer) => !consumer.closed)
    .at(-1);
  if (video) {
    const current = video.currentLayers;
    view.layers = video.paused
      ? 'paused'
      : current
        ? `S${current.spatialLayer}T${current.temporalLayer ?? '-'}`
        : 'none';
  }
  return view;
}

const kbps = (value: number) => (Number.isNaN(value) ? '   -' : Math.round(value).toString().padStart(4));

interface Figures {
  concealedPercent: number;
  fps: number;
  freezes: number;
  freezeSeconds: number;
  longestGapMs: number;
  /** Seconds from admission, or from the drop's end, to the first second at >= 10 fps. */
  recoverSeconds: number;
  /** The drop only: seconds from its end until the video is as wide as before it (the layer back). */
  layerBackSeconds: number;
  /** The width decoded at the end: the simulcast layer reached. */
  endWidth: number;
}

/** Figures over the samples from `from` (seconds after admission) to the end. */
function figures(
  samples: ReceivedMedia[],
  from: number,
  recovery: { from: number; width: number },
  longestGapMs: number,
): Figures {
  const start = samples[from] ?? samples[0]!;
  const end = samples.at(-1)!;
  const audio = end.audioSamples - start.audioSamples;
  const elapsed = (end.at - start.at) / 1000;
  let recoverSeconds = NaN;
  let layerBackSeconds = NaN;
  const since = (sample: ReceivedMedia) => (sample.at - samples[recovery.from]!.at) / 1000;
  for (let i = Math.max(1, recovery.from + 1); i < samples.length; i++) {
    const [a, b] = [samples[i - 1]!, samples[i]!];
    const fps = (b.framesDecoded - a.framesDecoded) / ((b.at - a.at) / 1000);
    if (Number.isNaN(recoverSeconds) && fps >= 10) recoverSeconds = since(b);
    if (Number.isNaN(layerBackSeconds) && recovery.width > 0 && b.frameWidth >= recovery.width)
      layerBackSeconds = since(b);
  }
  return {
    concealedPercent: audio > 0 ? (100 * (end.concealedSamples - start.concealedSamples)) / audio : NaN,
    fps: (end.framesDecoded - start.framesDecoded) / elapsed,
    freezes: end.freezeCount - start.freezeCount,
    freezeSeconds: end.freezeSeconds - start.freezeSeconds,
    longestGapMs,
    recoverSeconds,
    layerBackSeconds,
    endWidth: end.frameWidth,
  };
}

const secondsOrNot = (value: number) => (Number.isNaN(value) ? '   -' : value.toFixed(1).padStart(4));

const row = (scenario: string, side: string, f: Figures, goals: boolean, drop: boolean) =>
  console.log(
    `${scenario.padEnd(34)} ${side.padEnd(9)} concealed ${f.concealedPercent.toFixed(1).padStart(5)} %  ` +
      `video ${f.fps.toFixed(1).padStart(4)} fps  freezes ${String(f.freezes).padStart(2)} (${f.freezeSeconds.toFixed(1)} s)  ` +
      `longest gap ${Math.round(f.longestGapMs).toString().padStart(5)} ms  recover ${secondsOrNot(f.recoverSeconds)} s  ` +
      (drop ? `layer back ${secondsOrNot(f.layerBackSeconds)} s  ` : '') +
      `end width ${f.endWidth}` +
      (goals
        ? `   goals: concealed < 5 % ${f.concealedPercent < 5 ? 'met' : 'NOT met'}, >= 10 fps ${f.fps >= 10 ? 'met' : 'NOT met'}, no freeze > 1 s ${f.longestGapMs <= 1000 ? 'met' : 'NOT met'}`
        : ''),
  );

type Counters = ReturnType<ImpairmentRelay['counters']>;
const minus = (a: Counters, b: Counters): Counters => {
  const link = (x: LinkCounters, y: LinkCounters): LinkCounters => ({
    packets: x.packets - y.packets,
    bytes: x.bytes - y.bytes,
    lost: x.lost - y.lost,
    overflowed: x.overflowed - y.overflowed,
  });
  return { up: link(a.up, b.up), down: link(a.down, b.down) };
};

const cleanup = new CleanupStack();
const triage = await startTriage(cleanup, { listen: true });
const impaired = await startImpairedCallNode({ jwksUrl: `${triage.url}/.well-known/jwks.json` });
// the production build, as the browser tests use: the dev server reloads the pages whenever a
// source file changes, which ended runs part way on a checkout being worked in
const web = await startStaticServer({ triageUrl: triage.url, signallingUrl: impaired.node.url });
const browser = await launchBrowser();
try {
  console.log(
    `poor network: ${scenarios.length} scenarios, ${seconds} s each after admission, figures from ${settleSeconds} s; ` +
      `load average ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')} on ${availableParallelism()} cores`,
  );
  const clinician = await newLocalPage(browser);
  const consultationId = await seedConsultation(triage.db.pool, triage.practiceA.id);
  const staffToken = triage.as(triage.practiceA, 'clinician').token;
  const firstLink = await startCallAsClinician(clinician, web.url, staffToken, consultationId);
  const clinicianId = await clinician.evaluate(() => window.__call?.self?.participantId ?? '');
  const first = JSON.parse(
    Buffer.from(new URL(firstLink).hash.split('.')[1] ?? '', 'base64url').toString(),
  ) as CallTokenClaims;
  for (const scenario of scenarios) {
    // each scenario is a new patient (a new link), so the relay takes only their transports
    const patientId = randomUUID();
    const link = `${web.url}call.html#t=${triage.app.tokens.sign('call', { ...first, sub: patientId }, 600)}`;
    impaired.impairOnly(patientId);
    impaired.relay.set(scenario.impairment);
    const relayBefore = impaired.relay.counters();
    const patient = await newLocalPage(browser);
    await joinAsPatient(patient, web.url, link);
    await markOldTiles(clinician);
    const admit = clinician.getByRole('button', { name: 'Admit Pat Example' });
    await admit.click({ timeout: 15_000 });
    const admittedAt = Date.now();
    await patient.locator('video.gpc-video--remote').first().waitFor({ timeout: 15_000 });
    await clinician.locator(newTile).waitFor({ timeout: 15_000 });
    await Promise.all([watchFrames(patient), watchFrames(clinician)]);
    const samples = { patient: [] as ReceivedMedia[], clinician: [] as ReceivedMedia[] };
    const gaps = { patient: 0, clinician: 0 };
    const changes = [...(scenario.changes ?? [])];
    const recovery = { patient: { from: 0, width: 0 }, clinician: { from: 0, width: 0 } };
    let traced:
      { relay: Counters; sent: SentMedia; onPatient: ReceivedMedia; onClinician: ReceivedMedia } | undefined;
    const length = scenario.changes ? Math.max(seconds, dropAt + dropFor + 30) : seconds;
    for (let second = 0; second <= length; second++) {
      const due = admittedAt + second * 1000;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, due - Date.now())));
      const [onPatient, onClinician] = await Promise.all([receivedMedia(patient), receivedMedia(clinician)]);
      samples.patient.push(onPatient);
      samples.clinician.push(onClinician);
      if (trace) {
        const relayNow = impaired.relay.counters();
        const [sent, toPatient, toClinician] = await Promise.all([
          sentMedia(patient),
          nodeView(impaired, patientId),
          nodeView(impaired, clinicianId),
        ]);
        const was = traced ?? { relay: relayNow, sent, onPatient, onClinician };
        traced = { relay: relayNow, sent, onPatient, onClinician };
        const span = Math.max(0.001, (sent.at - was.sent.at) / 1000);
        const { up, down } = minus(relayNow, was.relay);
        const rate = (bytes: number) => (bytes * 8) / 1000 / span;
        const concealed = (now: ReceivedMedia, then: ReceivedMedia) => {
          const samplesIn = now.audioSamples - then.audioSamples;
          return samplesIn > 0 ? (100 * (now.concealedSamples - then.concealedSamples)) / samplesIn : NaN;
        };
        const frames = (now: ReceivedMedia, then: ReceivedMedia) =>
          (now.framesDecoded - then.framesDecoded) / span;
        console.log(
          `  t=${String(second).padStart(2)} ${impaired.relay.impairment.down.rateKbps ?? 'clear'} | ` +
            `relay down ${kbps(rate(down.bytes))} kbps ovf ${String(down.overflowed).padStart(3)}, up ${kbps(rate(up.bytes))} kbps ovf ${String(up.overflowed).padStart(3)} | ` +
            `node: est to patient ${kbps(toPatient.estimateKbps)}, sends ${kbps(toPatient.sendKbps)} (rtx ${kbps(toPatient.rtxKbps)}, probes ${kbps(toPatient.probationKbps)}; ${toPatient.layers}), ` +
            `from patient ${kbps(toPatient.receivedKbps)} (loss ${(100 * toPatient.lossReceived).toFixed(0)} %, cap ${kbps(toPatient.maxIncomingKbps)}), to clinician ${toClinician.layers} | ` +
            `patient sends audio ${kbps(rate(sent.audioBytes - was.sent.audioBytes))} video ${kbps(rate(sent.videoBytes - was.sent.videoBytes))} (${sent.activeLayers} layers), own est ${kbps(sent.estimateKbps)} | ` +
            `patient gets ${frames(onPatient, was.onPatient).toFixed(0).padStart(2)} fps, concealed ${concealed(onPatient, was.onPatient).toFixed(0).padStart(3)} %; ` +
            `clinician gets ${frames(onClinician, was.onClinician).toFixed(0).padStart(2)} fps, concealed ${concealed(onClinician, was.onClinician).toFixed(0).padStart(3)} %`,
        );
      }
      while (changes[0] && changes[0].at <= second) {
        // the drop's start keeps the width it had, for recovery; its end starts the clock
        if (changes.length === 2) {
          recovery.patient.width = onPatient.frameWidth;
          recovery.clinician.width = onClinician.frameWidth;
        }
        impaired.relay.set(changes.shift()!.impairment);
        if (changes.length === 0) {
          recovery.patient.from = second;
          recovery.clinician.from = second;
        }
      }
      // gaps count from the end of the settling time
      const reset = second === settleSeconds;
      const [gapPatient, gapClinician] = await Promise.all([
        longestGap(patient, reset),
        longestGap(clinician, reset),
      ]);
      if (second > settleSeconds) {
        gaps.patient = Math.max(gaps.patient, gapPatient);
        gaps.clinician = Math.max(gaps.clinician, gapClinician);
      }
    }
    const goals = scenario.name.startsWith('300 kbps');
    const drop = scenario.changes !== undefined;
    row(
      scenario.name,
      'patient',
      figures(samples.patient, settleSeconds, recovery.patient, gaps.patient),
      goals,
      drop,
    );
    row(
      scenario.name,
      'clinician',
      figures(samples.clinician, settleSeconds, recovery.clinician, gaps.clinician),
      goals,
      drop,
    );
    const { up, down } = minus(impaired.relay.counters(), relayBefore);
    console.log(
      `${''.padEnd(34)} relay: to the patient ${down.packets} packets, ${down.lost} lost, ${down.overflowed} overflowed; ` +
        `from the patient ${up.packets}, ${up.lost} lost, ${up.overflowed} overflowed`,
    );
    impaired.relay.clear();
    // leaving, not just closing: a page that goes silent keeps its place (and its tiles) a while
    await patient.click('#leave');
    await patient.close();
  }
  console.log(
    `recover: seconds from admission (from the drop's end in the drop scenario, back to the width before it) to the first second at >= 10 fps; ` +
      `load average at the end ${loadavg()
        .map((load) => load.toFixed(1))
        .join(' ')}`,
  );
} finally {
  await browser.close();
  await web.close();
  await impaired.close();
  await cleanup.run();
}
