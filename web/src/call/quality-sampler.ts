import type { MediaPath, QualityReport } from '@gpc/contracts';
import { mediaPath, selectedCandidate } from './media-path';

/** What the sampler needs of the call: its transports' statistics and a way to send a report. */
export interface QualitySource {
  /** The receiving and sending transports' `getStats()`, those that exist. */
  transportStats(): Promise<RTCStatsReport[]>;
  /** True while the page is in the call (reports are about media, so none before or after). */
  inCall(): boolean;
  send(report: QualityReport): Promise<unknown>;
}

type Entry = {
  type: string;
  id: string;
  kind?: string;
  bytesSent?: number;
  bytesReceived?: number;
  packetsLost?: number;
  packetsReceived?: number;
  freezeCount?: number;
  totalFreezesDuration?: number;
  selectedCandidatePairId?: string;
  currentRoundTripTime?: number;
};

/** Counters of one moment, summed over every RTP stream of the transports. */
interface Totals {
  at: number;
  sentBytes: number;
  receivedBytes: number;
  lost: number;
  received: number;
  freezes: number;
  freezeSeconds: number;
}

/**
 * The counters of every stream (a stream's counters start at 0, so one that appeared since the last
 * sample counts whole), the path and round trip of the selected candidate pair.
 */
export function readTotals(
  reports: RTCStatsReport[],
  at: number,
): { totals: Totals; path: MediaPath | undefined; roundTripMs: number | undefined } {
  const totals: Totals = {
    at,
    sentBytes: 0,
    receivedBytes: 0,
    lost: 0,
    received: 0,
    freezes: 0,
    freezeSeconds: 0,
  };
  let path: MediaPath | undefined;
  let roundTripMs: number | undefined;
  for (const report of reports) {
    const entries = [...(report as unknown as Map<string, Entry>).values()];
    for (const entry of entries) {
      if (entry.type === 'outbound-rtp') totals.sentBytes += entry.bytesSent ?? 0;
      if (entry.type !== 'inbound-rtp') continue;
      totals.receivedBytes += entry.bytesReceived ?? 0;
      totals.lost += Math.max(0, entry.packetsLost ?? 0);
      totals.received += entry.packetsReceived ?? 0;
      totals.freezes += entry.freezeCount ?? 0;
      totals.freezeSeconds += entry.totalFreezesDuration ?? 0;
    }
    const candidate = selectedCandidate(report);
    path ??= candidate && mediaPath(candidate);
    const transport = entries.find((entry) => entry.type === 'transport' && entry.selectedCandidatePairId);
    const pair = transport && entries.find((entry) => entry.id === transport.selectedCandidatePairId);
    if (roundTripMs === undefined && pair?.currentRoundTripTime !== undefined)
      roundTripMs = Math.round(pair.currentRoundTripTime * 1000);
  }
  return { totals, path, roundTripMs };
}

/** The report for the window between two samples (counters that went down, after a rejoin, count from 0). */
export function qualityBetween(before: Totals, now: ReturnType<typeof readTotals>): QualityReport {
  const { totals, path, roundTripMs } = now;
  const delta = (key: Exclude<keyof Totals, 'at'>) =>
    totals[key] >= before[key] ? totals[key] - before[key] : totals[key];
  const seconds = Math.max(0.001, (totals.at - before.at) / 1000);
  const lost = delta('lost');
  const expected = lost + delta('received');
  const kbps = (bytes: number) => Math.min(100_000, Math.round((bytes * 8) / 1000 / seconds));
  return {
    windowSeconds: Math.min(600, Math.max(1, Math.round(seconds))),
    ...(path ? { path } : {}),
    sendKbps: kbps(delta('sentBytes')),
    receiveKbps: kbps(delta('receivedBytes')),
    lossPercent: expected > 0 ? Math.round((lost / expected) * 10_000) / 100 : 0,
    ...(roundTripMs === undefined ? {} : { roundTripMs: Math.min(60_000, roundTripMs) }),
    freezeCount: Math.min(10_000, delta('freezes')),
    freezeSeconds: Math.min(600, Math.round(delta('freezeSeconds') * 100) / 100),
  };
}

/**
 * Reports the call's quality to signalling (call data for the practice): a first report a few
 * seconds into the call, so even a short call records its media path, then one every `everyMs`.
 * A report that fails is not sent again: the next one covers its window too.
 */
export function startQualityReports(
  source: QualitySource,
  options: { firstAfterMs?: number; everyMs?: number } = {},
): () => void {
  const everyMs = options.everyMs ?? 15_000;
  const firstAfterMs = options.firstAfterMs ?? 3000;
  let since: Totals | undefined;
  let sent = 0;
  let stopped = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const tick = async () => {
    if (!source.inCall()) {
      // out of the call (waiting, reconnecting): the next window starts when it is back
      since = undefined;
      return;
    }
    const now = readTotals(await source.transportStats(), Date.now());
    if (since) {
      await source.send(qualityBetween(since, now)).catch(() => undefined);
      sent += 1;
    }
    since = now.totals;
  };
  // every second until in the call (the window's start), then the first report, then every `everyMs`
  const next = () => (!since ? 1000 : sent === 0 ? firstAfterMs : everyMs);
  const loop = (delayMs: number) => {
    timer = setTimeout(() => {
      void tick()
        .catch(() => undefined)
        .finally(() => {
          if (!stopped) loop(next());
        });
    }, delayMs);
  };
  loop(1000);
  return () => {
    stopped = true;
    clearTimeout(timer);
  };
}
