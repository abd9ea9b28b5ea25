/**
 * Fits each receiver's video to the bandwidth its transport can carry. mediasoup estimates, per
 * receiving transport, the bitrate the path to the browser takes (transport-wide congestion
 * control; the `bwe` trace) and hands it to the video consumers; it reserves nothing for audio
 * and climbs back up a layer as soon as the estimate allows, which on a poor link means repeated
 * failed climbs (a key frame each, then losses: freezes). Here, once a second per transport:
 *
 * - audio first: a share of the estimate is kept for each audio consumer, and video gets the rest;
 * - each video consumer's ceiling (`setPreferredLayers`) is the highest simulcast layer whose
 *   sender bitrate fits its share, dropping to fewer frames per second (temporal layers) only
 *   below the lowest layer; a lower ceiling applies at once, a higher one after it has fitted for
 *   a few seconds;
 * - a transport whose estimate stays below a threshold makes its participant's connection
 *   `poor` (the page offers audio only), and `good` again once it stays well above.
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
}

export const defaultAdaptationSettings: AdaptationSettings = {
  intervalMs: 1000,
  poorBelowKbps: 200,
  poorAfterMs: 2000,
  goodAboveKbps: 350,
  goodAfterMs: 4000,
  audioReserveKbps: 48,
  videoShareOfEstimate: 0.85,
  raiseAfterMs: 4000,
};

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
}

/** Adapts one router's receiving transports; `close()` stops it (the router's close stops its transports). */
export class Adaptation {
  private readonly receivers = new Map<string, Receiver>();
  /** Each producer's layer costs, kilobits per second, lowest first. */
  private readonly layerCosts = new Map<string, number[]>();
  private readonly timer: NodeJS.Timeout;
  private closed = false;

  constructor(
    router: types.Router,
    private readonly onQuality: (change: QualityChange) => void,
    private readonly settings: AdaptationSettings = defaultAdaptationSettings,
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
    this.layerCosts.clear();
  }

  private watch(transport: types.WebRtcTransport): void {
    const { direction, peerId } = transport.appData as { direction?: string; peerId?: string };
    if (direction === 'send') {
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
    for (const receiver of this.receivers.values()) {
      if (receiver.transport.closed || receiver.availableKbps === undefined) continue;
      this.fitLayers(receiver, receiver.availableKbps, now);
      // the estimate says something of the path only while video flows along it: with nothing to
      // carry (the other side's phone in the background, their camera off) it sinks by itself, and
      // this participant's connection is not poor for that
      if (carriesVideo(receiver)) this.judgeQuality(receiver, receiver.availableKbps, now);
      else receiver.crossingSince = undefined;
    }
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
        if (!ceiling.higher || compare(ceiling.higher.layers, target) !== 0)
          ceiling.higher = { layers: target, since: now };
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
