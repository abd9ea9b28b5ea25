/**
 * Where the time of a join goes, as the call node's mediasoup objects see it: transports created,
 * ICE and DTLS connected, producers and consumers created and resumed, key frames asked for (PLI,
 * FIR) and sent, and a consumer's first RTP packet. Each event is stamped with the epoch
 * milliseconds it reached Node (the worker's own timestamps use another clock), so it lines up
 * with the pages' `timeline` and the benchmark's own clock.
 */
import type { types } from 'mediasoup';
import type { MediaWorkerPool } from '@gpc/media';

export interface TraceEvent {
  /** The participant whose transport, producer or consumer it was. */
  peerId: string;
  step: string;
  at: number;
}

export class JoinTrace {
  readonly events: TraceEvent[] = [];

  constructor(pool: MediaWorkerPool) {
    for (const { worker } of pool.workers)
      worker.observer.on('newrouter', (router) =>
        router.observer.on('newtransport', (transport) =>
          this.watchTransport(transport as types.WebRtcTransport),
        ),
      );
  }

  private add(peerId: string, step: string): void {
    this.events.push({ peerId, step, at: Date.now() });
  }

  private watchTransport(transport: types.WebRtcTransport): void {
    const { peerId, direction } = transport.appData as { peerId: string; direction: string };
    const add = (step: string) => this.add(peerId, step);
    add(`server: ${direction} transport created`);
    transport.on('icestatechange', (state) => add(`server: ${direction} transport ICE ${state}`));
    transport.on('dtlsstatechange', (state) => add(`server: ${direction} transport DTLS ${state}`));
    if (direction === 'recv') {
      // what the transport's bandwidth estimate lets its consumers have, in steps of 100 kbps
      transport.on('trace', ({ type, info }) => {
        const available = (info as { availableBitrate?: number }).availableBitrate;
        if (type === 'bwe' && available !== undefined)
          add(`server: recv transport estimate ${Math.round(available / 100_000) / 10} Mbps`);
      });
      void transport.enableTraceEvent(['bwe']).catch(() => undefined);
    }
    transport.observer.on('newproducer', (producer) => {
      add(`server: ${producer.kind} producer created`);
      producer.observer.on('resume', () => add(`server: ${producer.kind} producer resumed`));
      if (producer.kind !== 'video') return;
      producer.on('score', (scores) =>
        add(`server: video producer stream scores ${scores.map(({ score }) => score).join(',')}`),
      );
      producer.on('trace', ({ type, direction: way }) =>
        add(`server: video producer ${type === 'keyframe' ? 'key frame' : type.toUpperCase()} ${way}`),
      );
      void producer.enableTraceEvent(['keyframe', 'pli', 'fir']).catch(() => undefined);
    });
    transport.observer.on('newconsumer', (consumer) => {
      add(`server: ${consumer.kind} consumer created`);
      consumer.observer.on('resume', () => add(`server: ${consumer.kind} consumer resumed`));
      if (consumer.kind !== 'video') return;
      consumer.on('layerschange', (layers) =>
        add(`server: video consumer on spatial layer ${layers?.spatialLayer ?? 'none'}`),
      );
      let firstRtp = true;
      consumer.on('trace', ({ type, direction: way }) => {
        if (type === 'rtp') {
          if (!firstRtp) return;
          firstRtp = false;
          add('server: video consumer first RTP out');
          // one event per packet from here on would load the worker's channel: key frames and requests only
          void consumer.enableTraceEvent(['keyframe', 'pli', 'fir']).catch(() => undefined);
          return;
        }
        add(`server: video consumer ${type === 'keyframe' ? 'key frame' : type.toUpperCase()} ${way}`);
      });
      void consumer.enableTraceEvent(['rtp', 'keyframe', 'pli', 'fir']).catch(() => undefined);
    });
  }
}

/** Per step, its offsets from admit (ms) over the joins it happened in. */
export class StepTable {
  private readonly offsets = new Map<string, number[]>();

  /**
   * The first time each step happened in [from, to] relative to `admittedAt`: before Admit (the
   * waiting room) and after it counted apart, so a step done in both shows both.
   */
  addJoin(events: { label: string; at: number }[], admittedAt: number, from: number, to: number): void {
    const first = new Map<string, number>();
    const within = events.filter(({ at }) => at >= from && at <= to).sort((a, b) => a.at - b.at);
    for (const { label, at } of within) {
      const key = at < admittedAt ? `${label} (before Admit)` : label;
      if (!first.has(key)) first.set(key, at);
    }
    // BENCH_TRACE=1: every join's events, in order
    if (process.env.BENCH_TRACE)
      console.log(
        within
          .map(({ label, at }) => `  ${String(Math.round(at - admittedAt)).padStart(6)}  ${label}`)
          .join('\n') + '\n',
      );
    for (const [label, at] of first) {
      const list = this.offsets.get(label) ?? [];
      list.push(at - admittedAt);
      this.offsets.set(label, list);
    }
  }

  /** Steps in order of their median, with p50/p95 and how many joins had them. */
  print(percentile: (values: number[], p: number) => number, joins: number): void {
    const rows = [...this.offsets].map(([label, values]) => ({
      label,
      values,
      p50: percentile(values, 50),
    }));
    rows.sort((a, b) => a.p50 - b.p50);
    console.log(`where the time goes (ms from Admit; first occurrence per join; ${joins} joins)`);
    for (const { label, values, p50 } of rows)
      console.log(
        `  ${label.padEnd(64)} p50 ${String(Math.round(p50)).padStart(6)}  p95 ${String(
          Math.round(percentile(values, 95)),
        ).padStart(6)}  n=${values.length}`,
      );
  }
}
