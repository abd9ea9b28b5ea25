/**
 * Fits each receiver's video to the bandwidth its transport can carry. mediasoup estimates, per
 * receiving transport, the bitrate the path to the browser takes (transport-wide congestion
 * control; the `bwe` trace) and hands it to the video consumers; it reserves nothing for audio
 * and climbs back up a layer as soon as the estimate allows, which on a poor link means repeated
 * failed climbs (a key frame each, then losses: freezes). Here, twice a second per transport:
 *
 * - audio first: a share of the estimate is kept for each audio consumer, and video gets the rest;
 * - each video consumer's ceiling (`setPreferredLayers`) is the highest simulcast layer whose
 *   sender bitrate fits its share, dropping to fewer frames per second (temporal layers) only
 *   below the lowest layer; a lower ceiling applies at once, a higher one once something higher
 *   has fitted for a few seconds;
 * - a transport whose estimate stays below a threshold makes its participant's connection
 *   `poor` (the page offers audio only), and `good` again once it stays well above;
 * - a path that starts losing packets is throttled at once, without waiting for the estimate.
 *   After a drop to 100 kbps (bench/src/poor-network.ts) the worker's estimate took 2–5 s to
 *   fall, and went on sending the old layer and retransmitting what was lost (300–1,100 kbps of
 *   retransmissions into 100 kbps, for the whole 10 s drop, even once it sent no layer), and the
 *   browser's own sender took 3–5 s to slow down; whatever does not fit the link's queue is
 *   dropped, audio as much as video. So, from the loss in the transport-cc feedback (the worker's
 *   average of it, rising over 20 %): towards the participant, their video consumers are paused
 *   (which stops the retransmissions) and the transport's outgoing bitrate goes to the worker's
 *   floor (`setMaxOutgoingBitrate`), leaving the link to audio, which is never capped; from the
 *   participant, their browser is capped (`setMaxIncomingBitrate`, which it hears as REMB) under
 *   what arrived. Once the path is clear a cap is raised step by step, and lifted; the first raise
 *   towards a participant resumes their video from a key frame.
 * - REMB does not stop a camera: its lowest simulcast layer (35–40 kbps) and Opus with overheads
 *   fill a 100 kbps uplink, which lost a quarter of its packets, audio as much as video. So when
 *   the path from a participant is capped, their page is told its uplink is congested (it stops
 *   its camera's encodings, leaving the link to audio), and told it is clear at the cap's first
 *   raise (it starts them again, unless the person turned their camera off or chose audio only).
 *   Each start is a probe: for a few seconds a lower loss counts as congested, and congested again
 *   soon after, the next raise waits twice as long.
 *
 * See: mediasoup's consumer layers and priorities (https://mediasoup.org/documentation/v3/mediasoup/api/#Consumer),
 * and the transport's `trace` event (type `bwe`).
 */
import type { types } from 'mediasoup';

export type ConnectionQuality = 'good' | 'poor';

export interface QualityChange {
  /** The peer (participant) whose receiving transport it is. */
  peerId: string;
  quality: ConnectionQuality;
  /** mediasoup's estimate of what the path to the participant carries, kilobits per second. */
  availableKbps: number;
}

/** The path from a participant is congested (their page stops its camera's encodings) or clear again. */
export interface UplinkChange {
  peerId: string;
  congested: boolean;
}

export interface AdaptationSettings {
  /** How often each transport's layers and quality are looked at. */
  intervalMs: number;
  /** Below this estimate for `poorAfterMs`, the connection is poor. */
  poorBelowKbps: number;
  poorAfterMs: number;
  /** Above this estimate for `goodAfterMs`, it is good again. */
  goodAboveKbps: number;
  goodAfterMs: number;
  /** Kept out of video's share for each audio consumer (Opus with headers and some spare). */
  audioReserveKbps: number;
  /** The part of the estimate video may plan on: estimates overshoot, and queues build up first. */
  videoShareOfEstimate: number;
  /** A higher ceiling waits until it has fitted this long. */
  raiseAfterMs: number;
  /** A path losing this share of packets (transport-cc feedback, 0–1) is congested: capped at once. */
  congestedLoss: number;
  /** Below this loss a cap may be raised, once the path has stayed this clear for `capRaiseAfterMs`. */
  clearLoss: number;
  capRaiseAfterMs: number;
  /** Each raise multiplies the cap by this; a cap raised past `capLiftAboveKbps` is lifted. */
  capRaiseFactor: number;
  capLiftAboveKbps: number;
  /**
   * For this long after a participant's page is told its uplink is clear (its camera back on: a
   * probe), a path from them losing this share of packets is congested already: the lowest layer
   * beside audio lost 6–14 % of a 100 kbps uplink, under `congestedLoss`, and stayed on.
   */
  uplinkProbeMs: number;
  uplinkProbeLoss: number;
}

export const defaultAdaptationSettings: AdaptationSettings = {
  intervalMs: 500,
  poorBelowKbps: 200,
  poorAfterMs: 2000,
  goodAboveKbps: 350,
  goodAfterMs: 4000,
  audioReserveKbps: 48,
  videoShareOfEstimate: 0.85,
  raiseAfterMs: 2000,
  congestedLoss: 0.2,
  clearLoss: 0.02,
  capRaiseAfterMs: 1000,
  capRaiseFactor: 1.5,
  capLiftAboveKbps: 2000,
  uplinkProbeMs: 4000,
  uplinkProbeLoss: 0.05,
};

/** mediasoup refuses a max outgoing bitrate under 30 kbps (its congestion controller's floor). */
const minCapKbps = 30;

/** What a layer costs when the sender did not say (the call page's own simulcast maxBitrates). */
const assumedLayerKbps = [100, 300, 900];

export interface Layers {
  spatialLayer: number;
  temporalLayer: number;
}

/**
 * The highest layers whose cost fits `shareKbps`: the largest spatial layer that fits, at full
 * frame rate; under the lowest layer's cost, the lowest layer at half or a quarter of its frames
 * (temporal layers 1 and 0 of three), since a smaller picture is better than a stalled one.
 */
export function layersFor(layerKbps: readonly number[], shareKbps: number): Layers {
  let spatialLayer = -1;
  layerKbps.forEach((kbps, index) => {
    if (kbps <= shareKbps) spatialLayer = index;
  });
  if (spatialLayer >= 0) return { spatialLayer, temporalLayer: 2 };
  const lowest = layerKbps[0] ?? assumedLayerKbps[0]!;
  return { spatialLayer: 0, temporalLayer: shareKbps >= lowest * 0.6 ? 1 : 0 };
}

const compare = (a: Layers, b: Layers) =>
  a.spatialLayer - b.spatialLayer || a.temporalLayer - b.temporalLayer;

/** A cap on one direction of a path, kbps; `undefined` when there is none. */
export interface Cap {
  kbps: number | undefined;
  /** Since when the path has been clear (loss under `clearLoss`) with the cap in force. */
  clearSince: number | undefined;
  /** The loss last read, to tell a fresh reading from one with no feedback since. */
  lastLoss: number | undefined;
  /** Whether the last reading was fresh: a cap raised on no news needs the worker pushed (see throttleReceiver). */
  fresh: boolean;
  /** When the cap was last raised, and how long the path must stay clear before the next raise. */
  raisedAt: number | undefined;
  waitMs: number;
}

export const noCap = (settings: Pick<AdaptationSettings, 'capRaiseAfterMs'>): Cap => ({
  kbps: undefined,
  clearSince: undefined,
  lastLoss: undefined,
  fresh: false,
  raisedAt: undefined,
  waitMs: settings.capRaiseAfterMs,
});

/** What one reading of a path says: the share of packets lost (0–1), and where a congested path is capped, kbps. */
export interface PathReading {
  loss: number;
  /** The cap a congested path gets now (what it carried, or a floor). */
  congestedKbps: number;
}

type CapSettings = Pick<
  AdaptationSettings,
  'congestedLoss' | 'clearLoss' | 'capRaiseAfterMs' | 'capRaiseFactor' | 'capLiftAboveKbps'
>;

/**
 * The next cap for a path, or `undefined` to leave it as it is (`0` lifts it). Congested (a fresh
 * reading at or over `congestedLoss`, and not below the last): `congestedKbps`, lowered at once,
 * never raised. Clear (under `clearLoss`, clearly falling, or no news: the same loss as last time,
 * as when nothing that is measured was sent) for the wait: raised by `capRaiseFactor`, and lifted
 * past `capLiftAboveKbps`. A path congested
 * again soon after a raise waits twice as long before the next one (up to 16 times), so a link that
 * cannot carry more is not pushed into losses every second; after a long clear spell it waits the
 * least again.
 */
export function nextCap(
  cap: Cap,
  reading: PathReading,
  now: number,
  settings: CapSettings,
  /** A falling loss counts as clear even above `congestedLoss` (where feedback thins out: video held back). */
  fallingIsClear = true,
): number | undefined {
  const last = cap.lastLoss;
  const fresh = last === undefined || reading.loss !== last;
  cap.lastLoss = reading.loss;
  cap.fresh = fresh;
  // the worker's loss is an average of its recent feedback, newest weighing most: after a spell
  // of losses it stays high for many seconds, falling, though nothing is lost any more; rising,
  // the newest feedback lost more than before it
  const rising = last === undefined || reading.loss >= last;
  const falling =
    last !== undefined &&
    reading.loss < last * 0.9 &&
    (fallingIsClear || reading.loss < settings.congestedLoss);
  if (fresh && rising && reading.loss >= settings.congestedLoss) {
    cap.clearSince = undefined;
    if (cap.raisedAt !== undefined && now - cap.raisedAt < 2 * cap.waitMs + settings.capRaiseAfterMs)
      cap.waitMs = Math.min(cap.waitMs * 2, settings.capRaiseAfterMs * 16);
    cap.raisedAt = undefined;
    const kbps = Math.max(minCapKbps, reading.congestedKbps);
    if (cap.kbps !== undefined && kbps >= cap.kbps) return undefined;
    cap.kbps = kbps;
    return kbps;
  }
  if (cap.kbps === undefined) {
    if (cap.raisedAt !== undefined && now - cap.raisedAt > 20 * settings.capRaiseAfterMs) {
      cap.waitMs = settings.capRaiseAfterMs;
      cap.raisedAt = undefined;
    }
    return undefined;
  }
  if (fresh && !falling && reading.loss >= settings.clearLoss) {
    cap.clearSince = undefined;
    return undefined;
  }
  cap.clearSince ??= now;
  if (now - cap.clearSince < cap.waitMs) return undefined;
  cap.clearSince = now;
  cap.raisedAt = now;
  const raised = cap.kbps * settings.capRaiseFactor;
  cap.kbps = raised > settings.capLiftAboveKbps ? undefined : raised;
  return cap.kbps ?? 0;
}

/** A video consumer's ceiling: what is set, and a higher one waiting to have fitted long enough. */
interface Ceiling {
  layers: Layers | undefined;
  higher: { layers: Layers; since: number } | undefined;
}

/** One receiving transport: its latest estimate, its consumers' ceilings, the quality it shows. */
interface Receiver {
  transport: types.WebRtcTransport;
  peerId: string;
  availableKbps: number | undefined;
  consumers: Map<string, { consumer: types.Consumer; ceiling: Ceiling }>;
  quality: ConnectionQuality;
  /** Since when the estimate has been on the other side of the threshold from `quality`. */
  crossingSince: number | undefined;
  /** The cap on what the worker sends this participant (`setMaxOutgoingBitrate`). */
  cap: Cap;
  /** Video consumers paused here while the path is congested (not by the participant). */
  heldBack: Set<types.Consumer>;
}

/** One sending transport: the cap on what its participant's browser sends (`setMaxIncomingBitrate`). */
interface Sender {
  transport: types.WebRtcTransport;
  peerId: string | undefined;
  cap: Cap;
  /** The participant's page was told its uplink is congested, and not yet that it is clear. */
  congested: boolean;
  /** When the page was last told its uplink is clear. */
  clearedAt: number | undefined;
}

/** Adapts one router's receiving transports; `close()` stops it (the router's close stops its transports). */
export class Adaptation {
  private readonly receivers = new Map<string, Receiver>();
  private readonly senders = new Map<string, Sender>();
  /** Transports whose stats are being read: a slow worker does not pile up requests. */
  private readonly reading = new Set<string>();
  /** Each producer's layer costs, kilobits per second, lowest first. */
  private readonly layerCosts = new Map<string, number[]>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    router: types.Router,
    private readonly onQuality: (change: QualityChange) => void,
    private readonly settings: AdaptationSettings = defaultAdaptationSettings,
    /** Whether a participant chose audio only: their video held back here stays paused when let go. */
    private readonly audioOnly: (peerId: string) => boolean = () => false,
    /** The path from a participant became congested, or clear again: their page stops or starts its camera's encodings. */
    private readonly onUplink: (change: UplinkChange) => void = () => undefined,
  ) {
    router.observer.on('newtransport', (transport) => this.watch(transport as types.WebRtcTransport));
    this.timer = setInterval(() => this.adjustAll(), settings.intervalMs);
    this.timer.unref();
  }

  /** The quality a peer's receiving transport shows now ('good' until known otherwise). */
  qualityOf(peerId: string): ConnectionQuality {
    for (const receiver of this.receivers.values())
      if (receiver.peerId === peerId && receiver.quality === 'poor') return 'poor';
    return 'good';
  }

  /** Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.timer);
    this.receivers.clear();
    this.senders.clear();
    this.layerCosts.clear();
  }

  private watch(transport: types.WebRtcTransport): void {
    const { direction, peerId } = transport.appData as { direction?: string; peerId?: string };
    if (direction === 'send') {
      this.senders.set(transport.id, {
        transport,
        peerId,
        cap: noCap(this.settings),
        congested: false,
        clearedAt: undefined,
      });
      transport.observer.once('close', () => this.senders.delete(transport.id));
      transport.observer.on('newproducer', (producer) => {
        const costs = producer.rtpParameters.encodings?.map((encoding, index) =>
          encoding.maxBitrate ? encoding.maxBitrate / 1000 : (assumedLayerKbps[index] ?? 900),
        );
        if (producer.kind === 'video' && costs && costs.length > 0) this.layerCosts.set(producer.id, costs);
        producer.observer.once('close', () => this.layerCosts.delete(producer.id));
      });
      return;
    }
    if (direction !== 'recv' || !peerId) return;
    const receiver: Receiver = {
      transport,
      peerId,
      availableKbps: undefined,
      consumers: new Map(),
      quality: 'good',
      crossingSince: undefined,
      cap: noCap(this.settings),
      heldBack: new Set(),
    };
    this.receivers.set(transport.id, receiver);
    transport.observer.once('close', () => this.receivers.delete(transport.id));
    transport.on('trace', (trace) => {
      const available = (trace.info as { availableBitrate?: unknown }).availableBitrate;
      if (trace.type === 'bwe' && typeof available === 'number') receiver.availableKbps = available / 1000;
    });
    transport.enableTraceEvent(['bwe']).catch(() => undefined);
    transport.observer.on('newconsumer', (consumer) => {
      receiver.consumers.set(consumer.id, { consumer, ceiling: { layers: undefined, higher: undefined } });
      consumer.observer.once('close', () => receiver.consumers.delete(consumer.id));
    });
  }

  private adjustAll(): void {
    const now = Date.now();
    for (const sender of this.senders.values()) this.throttleSender(sender);
    for (const receiver of this.receivers.values()) {
      this.throttleReceiver(receiver);
      if (receiver.transport.closed || receiver.availableKbps === undefined) continue;
      this.fitLayers(receiver, receiver.availableKbps, now);
      // the estimate says something of the path only while video flows along it: with nothing to
      // carry (the other side's phone in the background, their camera off) it sinks by itself, and
      // this participant's connection is not poor for that
      // video held back for congestion counts as video the path could not carry
      if (carriesVideo(receiver) || receiver.heldBack.size > 0)
        this.judgeQuality(receiver, receiver.availableKbps, now);
      else receiver.crossingSince = undefined;
    }
  }

  /** Reads a transport's stats, one request at a time per transport; undefined if it closed or failed. */
  private async statsOf(transport: types.WebRtcTransport): Promise<TransportReading | undefined> {
    if (transport.closed || this.reading.has(transport.id)) return undefined;
    this.reading.add(transport.id);
    try {
      const [stats] = await transport.getStats();
      return stats;
    } catch {
      return undefined;
    } finally {
      this.reading.delete(transport.id);
    }
  }

  /**
   * Towards the participant: congested, the worker's outgoing bitrate goes to its floor at once,
   * which leaves video nothing (the worker sends no layer that does not fit) and audio the link,
   * and stops the retransmissions of the layer it was sending. Once clear it is raised step by
   * step, the level before each raise kept as the worker's minimum: with no video going out there
   * is no feedback, and the worker's estimate would stay at its floor for good (seen: 30 kbps for
   * 20 s after the link came back); the minimum lifts it, the lowest layer goes out again, and its
   * feedback shows whether the next step fits.
   */
  private throttleReceiver(receiver: Receiver): void {
    void this.statsOf(receiver.transport).then(async (stats) => {
      if (!stats || this.closed) return;
      const before = receiver.cap.kbps;
      const kbps = nextCap(
        receiver.cap,
        { loss: stats.rtpPacketLossSent ?? 0, congestedKbps: minCapKbps },
        Date.now(),
        this.settings,
      );
      if (kbps === undefined) return;
      const { transport } = receiver;
      const bps = (value: number) => Math.round(value * 1000);
      const raised = kbps === 0 || (before !== undefined && kbps > before);
      try {
        if (!raised) await this.holdBackVideo(receiver);
        if (kbps > 0 && raised) {
          await transport.setMaxOutgoingBitrate(bps(kbps));
          // no news (nothing measured goes out): push the estimate to the level that was clear;
          // with feedback coming, the estimate climbs to the new cap by itself, or stops short of it
          await transport.setMinOutgoingBitrate(receiver.cap.fresh ? 0 : bps(before ?? 0));
        } else {
          // the minimum first: the worker refuses a maximum under it
          await transport.setMinOutgoingBitrate(0);
          await transport.setMaxOutgoingBitrate(bps(kbps));
        }
        if (raised) await this.letVideoGo(receiver);
      } catch {
        // closed meanwhile
      }
      // the worker's estimate, capped, falls at once: the layers and quality judged here follow it
      if (kbps > 0) receiver.availableKbps = Math.min(receiver.availableKbps ?? kbps, kbps);
    });
  }

  /**
   * Pauses the receiver's live video consumers. The cap alone leaves the worker answering the
   * browser's NACKs for the layer it was sending: 300–650 kbps of retransmissions went on into a
   * 100 kbps link for the whole of a 10 s drop, after the worker had stopped sending any layer.
   * A paused consumer answers none.
   */
  private async holdBackVideo(receiver: Receiver): Promise<void> {
    for (const { consumer } of receiver.consumers.values()) {
      if (consumer.kind !== 'video' || consumer.closed || consumer.paused) continue;
      receiver.heldBack.add(consumer);
      await consumer.pause();
    }
  }

  /** Resumes what `holdBackVideo` paused (from a key frame), unless the participant chose audio only. */
  private async letVideoGo(receiver: Receiver): Promise<void> {
    const held = [...receiver.heldBack];
    receiver.heldBack.clear();
    if (this.audioOnly(receiver.peerId)) return;
    for (const consumer of held) {
      if (consumer.closed || !consumer.paused) continue;
      await consumer.resume();
      await consumer.requestKeyFrame();
    }
  }

  /**
   * From the participant: congested, what their browser sends is capped (it hears REMB) under what
   * arrived, and their page is told to stop its camera's encodings; at the cap's first raise, to
   * start them again.
   */
  private throttleSender(sender: Sender): void {
    void this.statsOf(sender.transport).then((stats) => {
      if (!stats || this.closed) return;
      const before = sender.cap.kbps;
      const now = Date.now();
      const probing = sender.clearedAt !== undefined && now - sender.clearedAt < this.settings.uplinkProbeMs;
      const kbps = nextCap(
        sender.cap,
        {
          loss: stats.rtpPacketLossReceived ?? 0,
          congestedKbps: (stats.recvBitrate / 1000) * this.settings.videoShareOfEstimate,
        },
        now,
        probing ? { ...this.settings, congestedLoss: this.settings.uplinkProbeLoss } : this.settings,
        // the browser's video keeps feedback coming: its loss average falls within seconds of the
        // losses ending, and a falling one over the mark still means losses (seen: 15 % for 6 s)
        false,
      );
      if (kbps === undefined) return;
      sender.transport.setMaxIncomingBitrate(Math.round(kbps * 1000)).catch(() => undefined);
      const congested = kbps > 0 && (before === undefined || kbps < before);
      if (sender.peerId && !sender.transport.closed && congested !== sender.congested) {
        sender.congested = congested;
        sender.clearedAt = congested ? undefined : now;
        this.onUplink({ peerId: sender.peerId, congested });
      }
    });
  }

  private fitLayers(receiver: Receiver, availableKbps: number, now: number): void {
    const live = [...receiver.consumers.values()].filter(
      ({ consumer }) => !consumer.closed && !consumer.paused,
    );
    const audio = live.filter(({ consumer }) => consumer.kind === 'audio').length;
    const video = live.filter(({ consumer }) => consumer.kind === 'video' && consumer.type === 'simulcast');
    if (video.length === 0) return;
    const budget = Math.max(
      0,
      availableKbps * this.settings.videoShareOfEstimate - audio * this.settings.audioReserveKbps,
    );
    for (const { consumer, ceiling } of video) {
      const costs = this.layerCosts.get(consumer.producerId) ?? assumedLayerKbps;
      const target = layersFor(costs, budget / video.length);
      const current = ceiling.layers;
      if (current && compare(target, current) === 0) {
        ceiling.higher = undefined;
        continue;
      }
      if (current && compare(target, current) > 0) {
        // climbing costs a key frame and, if it does not fit after all, losses: wait until it has fitted a while
        // a climbing estimate fits something higher each look: the wait runs from the first
        if (!ceiling.higher || compare(target, ceiling.higher.layers) < 0)
          ceiling.higher = { layers: target, since: now };
        else ceiling.higher.layers = target;
        if (now - ceiling.higher.since < this.settings.raiseAfterMs) continue;
      }
      ceiling.layers = target;
      ceiling.higher = undefined;
      consumer.setPreferredLayers(target).catch(() => undefined);
    }
  }

  private judgeQuality(receiver: Receiver, availableKbps: number, now: number): void {
    const { poorBelowKbps, poorAfterMs, goodAboveKbps, goodAfterMs } = this.settings;
    const crossing =
      receiver.quality === 'good' ? availableKbps < poorBelowKbps : availableKbps > goodAboveKbps;
    if (!crossing) {
      receiver.crossingSince = undefined;
      return;
    }
    receiver.crossingSince ??= now;
    if (now - receiver.crossingSince < (receiver.quality === 'good' ? poorAfterMs : goodAfterMs)) return;
    receiver.quality = receiver.quality === 'good' ? 'poor' : 'good';
    receiver.crossingSince = undefined;
    this.onQuality({
      peerId: receiver.peerId,
      quality: receiver.quality,
      availableKbps: Math.round(availableKbps),
    });
  }
}

/**
 * The part of a transport's stats read here. The loss fields are the worker's (from transport-cc
 * feedback, recent readings weighing most) and missing from this mediasoup's typings.
 */
type TransportReading = types.WebRtcTransportStat & {
  /** Of what the participant sent us. */
  rtpPacketLossReceived?: number;
  /** Of what we sent the participant. */
  rtpPacketLossSent?: number;
};

/** Whether video reaches the receiver's transport now: a consumer live, its producer sending. */
function carriesVideo(receiver: Receiver): boolean {
  for (const { consumer } of receiver.consumers.values())
    if (
      consumer.kind === 'video' &&
      !consumer.closed &&
      !consumer.paused &&
      !consumer.producerPaused &&
      consumer.score.producerScore > 0
    )
      return true;
  return false;
}
