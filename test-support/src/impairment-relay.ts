/**
 * A poor network in user space, for tests and benchmarks: this kernel has no `netem`, so media is
 * relayed through code we control. The relay listens (UDP and TCP) on another loopback address in
 * front of a mediasoup WebRtcServer, which announces the relay's address; every packet then crosses
 * a link per direction with a rate limit (a bottleneck with a finite queue: packets wait their turn
 * and only overflow is dropped, as on a real access link), random loss, delay and jitter, all
 * changeable during a call.
 *
 * Flows can be chosen by the WebRtcServer ICE username fragment their STUN checks name, so one
 * participant (the patient on a weak mobile signal) sits behind the poor link while the others pass
 * untouched. The chosen flows share one link per direction, as one device's transports share its
 * access link. Loss applies to UDP only: on TCP a lost segment is resent and shows as delay.
 *
 * See: RFC 4571 (RTP and STUN framed over TCP, 2-byte length), RFC 5389 (STUN USERNAME).
 */
import { createSocket, type RemoteInfo, type Socket as UdpSocket } from 'node:dgram';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { connect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';
import { performance } from 'node:perf_hooks';

/** One direction of the poor link. Missing fields are no impairment. */
export interface LinkImpairment {
  /** Bottleneck rate in kilobits per second (IP and UDP headers counted). */
  rateKbps?: number;
  /** Random loss, 0–100 %, before the bottleneck (UDP only). */
  lossPercent?: number;
  /** One-way delay added after the bottleneck. */
  delayMs?: number;
  /** Each packet's delay varies uniformly by up to ± this much; packets stay in order. */
  jitterMs?: number;
  /** How much waiting the bottleneck's queue holds before it drops (UDP); 250 ms unless given. */
  queueMs?: number;
}

/** `up` is what the client sends to the server; `down` what it receives. */
export interface Impairment {
  up: LinkImpairment;
  down: LinkImpairment;
}

export interface LinkCounters {
  packets: number;
  bytes: number;
  /** Dropped by random loss. */
  lost: number;
  /** Dropped because the bottleneck's queue was full. */
  overflowed: number;
}

/** A client's flow through the relay, as the selector sees it. */
export interface RelayFlow {
  protocol: 'udp' | 'tcp';
  /** The client's address and port. */
  client: string;
  /** The server's ICE username fragment named by the client's last STUN check, once seen. */
  serverUfrag: string | undefined;
}

export interface ImpairmentRelay {
  /** Where clients reach the relay: the address to announce, and the WebRtcServer's port. */
  host: string;
  port: number;
  /** The impairment now in force on the chosen flows. */
  readonly impairment: Impairment;
  /** Changes the impairment at once, for packets from now on; a direction not given is left as it is. */
  set(impairment: Partial<Impairment>): void;
  /** Takes every impairment away. */
  clear(): void;
  /** Which flows cross the poor link; all of them unless said. Asked again at each STUN check. */
  select(selector: (flow: RelayFlow) => boolean): void;
  /** What crossed (or was dropped on) the poor link, per direction. */
  counters(): { up: LinkCounters; down: LinkCounters };
  /** Idempotent. */
  close(): Promise<void>;
}

const udpIpHeaderBytes = 28;
const defaultQueueMs = 250;

/**
 * One direction of the poor link: loss, then a bottleneck serialising packets at the rate (a queue
 * of at most `queueMs` of waiting, tail drop beyond), then delay and jitter. Deliveries leave in
 * the order they came, from one timer.
 */
class Link {
  settings: LinkImpairment = {};
  readonly counters: LinkCounters = { packets: 0, bytes: 0, lost: 0, overflowed: 0 };
  /** When the bottleneck has finished sending everything queued on it. */
  private busyUntil = 0;
  private lastArrival = 0;
  private readonly pending: { at: number; deliver: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  send(bytes: number, deliver: () => void, lossy: boolean): void {
    if (this.closed) return;
    const { rateKbps, lossPercent = 0, delayMs = 0, jitterMs = 0, queueMs = defaultQueueMs } = this.settings;
    if (lossy && lossPercent > 0 && Math.random() * 100 < lossPercent) {
      this.counters.lost++;
      return;
    }
    const now = performance.now();
    let leaves = now;
    if (rateKbps && rateKbps > 0) {
      const starts = Math.max(now, this.busyUntil);
      // a full queue drops what arrives (UDP); a TCP stream cannot lose a piece, so it waits
      if (lossy && starts - now > queueMs) {
        this.counters.overflowed++;
        return;
      }
      this.busyUntil = starts + ((bytes + udpIpHeaderBytes) * 8) / rateKbps;
      leaves = this.busyUntil;
    }
    const jitter = jitterMs > 0 ? (Math.random() * 2 - 1) * jitterMs : 0;
    const arrives = Math.max(leaves + Math.max(0, delayMs + jitter), this.lastArrival);
    this.lastArrival = arrives;
    this.counters.packets++;
    this.counters.bytes += bytes;
    if (arrives <= now && this.pending.length === 0) {
      deliver();
      return;
    }
    this.pending.push({ at: arrives, deliver });
    if (this.pending.length === 1) this.schedule();
  }

  private schedule(): void {
    const head = this.pending[0];
    if (!head || this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        const now = performance.now();
        let due = 0;
        // timers fire a little late or early: deliver what is due within half a millisecond
        while (due < this.pending.length && this.pending[due]!.at <= now + 0.5) due++;
        for (const packet of this.pending.splice(0, due)) packet.deliver();
        this.schedule();
      },
      Math.max(0, head.at - performance.now()),
    );
  }

  close(): void {
    this.closed = true;
    clearTimeout(this.timer);
    this.pending.length = 0;
  }
}

/** Passes packets straight on: the link of flows the selector leaves out. */
const unimpaired = { send: (_bytes: number, deliver: () => void) => deliver() };

const stunMagicCookie = 0x2112a442;

/** The server's ufrag in a STUN binding request's USERNAME ("serverUfrag:clientUfrag"), if it is one. */
export function stunServerUfrag(packet: Buffer): string | undefined {
  if (packet.length < 20 || packet.readUInt16BE(0) !== 0x0001) return undefined;
  if (packet.readUInt32BE(4) !== stunMagicCookie) return undefined;
  const end = Math.min(packet.length, 20 + packet.readUInt16BE(2));
  for (let offset = 20; offset + 4 <= end;) {
    const type = packet.readUInt16BE(offset);
    const length = packet.readUInt16BE(offset + 2);
    if (offset + 4 + length > end) return undefined;
    if (type === 0x0006) {
      const username = packet.toString('utf8', offset + 4, offset + 4 + length);
      return username.split(':')[0] || undefined;
    }
    offset += 4 + Math.ceil(length / 4) * 4;
  }
  return undefined;
}

/** Splits an RFC 4571 stream into whole frames (2-byte length prefix kept), whatever the chunking. */
class FrameReader {
  private buffered: Buffer = Buffer.alloc(0);

  push(chunk: Buffer): Buffer[] {
    this.buffered = this.buffered.length > 0 ? Buffer.concat([this.buffered, chunk]) : chunk;
    const frames: Buffer[] = [];
    while (this.buffered.length >= 2) {
      const total = 2 + this.buffered.readUInt16BE(0);
      if (this.buffered.length < total) break;
      frames.push(this.buffered.subarray(0, total));
      this.buffered = this.buffered.subarray(total);
    }
    return frames;
  }
}

interface FlowState extends RelayFlow {
  impaired: boolean;
}

export interface ImpairmentRelayOptions {
  /** The address clients reach, e.g. 127.0.0.2: the one the WebRtcServer announces. */
  listenHost: string;
  /** The port to listen on: the WebRtcServer's own, since the announced candidate keeps it. */
  port: number;
  /** Where the WebRtcServer listens. */
  targetHost: string;
  targetPort: number;
}

/** A UDP flow's socket towards the server is closed after this long without a packet either way. */
const udpFlowIdleMs = 60_000;

/** Starts the relay on UDP and TCP; `close()` stops both and every flow. */
export async function startImpairmentRelay(options: ImpairmentRelayOptions): Promise<ImpairmentRelay> {
  const up = new Link();
  const down = new Link();
  let selector: (flow: RelayFlow) => boolean = () => true;
  const impairment: Impairment = { up: {}, down: {} };
  const linkFor = (flow: FlowState, link: Link) => (flow.impaired ? link : unimpaired);
  const sawClientPacket = (flow: FlowState, packet: Buffer) => {
    const ufrag = stunServerUfrag(packet);
    if (ufrag === undefined) return;
    flow.serverUfrag = ufrag;
    flow.impaired = selector(flow);
  };

  // UDP: one socket towards the server per client, so the server tells clients apart
  const udp = createSocket('udp4');
  const udpFlows = new Map<string, FlowState & { upstream: UdpSocket; lastSeen: number }>();
  const udpFlow = (rinfo: RemoteInfo) => {
    const client = `${rinfo.address}:${rinfo.port}`;
    let flow = udpFlows.get(client);
    if (flow) return flow;
    const upstream = createSocket('udp4');
    const created = {
      protocol: 'udp' as const,
      client,
      serverUfrag: undefined,
      impaired: true,
      upstream,
      lastSeen: Date.now(),
    };
    created.impaired = selector(created);
    flow = created;
    upstream.on('message', (packet) => {
      created.lastSeen = Date.now();
      linkFor(created, down).send(packet.length, () => udp.send(packet, rinfo.port, rinfo.address), true);
    });
    upstream.on('error', () => undefined);
    upstream.bind(0, options.targetHost);
    udpFlows.set(client, created);
    return flow;
  };
  udp.on('message', (packet, rinfo) => {
    const flow = udpFlow(rinfo);
    flow.lastSeen = Date.now();
    sawClientPacket(flow, packet);
    linkFor(flow, up).send(
      packet.length,
      () => flow.upstream.send(packet, options.targetPort, options.targetHost),
      true,
    );
  });
  udp.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    udp.once('error', reject);
    udp.bind(options.port, options.listenHost, () => {
      udp.off('error', reject);
      resolve();
    });
  });
  const sweep = setInterval(() => {
    for (const [client, flow] of udpFlows) {
      if (Date.now() - flow.lastSeen < udpFlowIdleMs) continue;
      flow.upstream.close();
      udpFlows.delete(client);
    }
  }, 10_000).unref();

  // TCP: framed packets cross the link whole; a side that closes closes the other
  const tcpSockets = new Set<Socket>();
  const tcpFlows = new Set<FlowState>();
  const tcp: Server = createServer((client) => {
    const flow: FlowState = {
      protocol: 'tcp',
      client: `${client.remoteAddress}:${client.remotePort}`,
      serverUfrag: undefined,
      impaired: true,
    };
    flow.impaired = selector(flow);
    tcpFlows.add(flow);
    client.once('close', () => tcpFlows.delete(flow));
    const upstream = connect(options.targetPort, options.targetHost);
    for (const socket of [client, upstream]) {
      tcpSockets.add(socket);
      socket.on('error', () => undefined);
      socket.once('close', () => {
        tcpSockets.delete(socket);
        client.destroy();
        upstream.destroy();
      });
    }
    const fromClient = new FrameReader();
    const fromServer = new FrameReader();
    client.on('data', (chunk) => {
      for (const frame of fromClient.push(chunk)) {
        sawClientPacket(flow, frame.subarray(2));
        linkFor(flow, up).send(frame.length, () => void (upstream.destroyed || upstream.write(frame)), false);
      }
    });
    upstream.on('data', (chunk) => {
      for (const frame of fromServer.push(chunk))
        linkFor(flow, down).send(frame.length, () => void (client.destroyed || client.write(frame)), false);
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(options.port, options.listenHost, () => {
      tcp.off('error', reject);
      resolve();
    });
  });

  const set = (next: Partial<Impairment>) => {
    if (next.up) impairment.up = { ...next.up };
    if (next.down) impairment.down = { ...next.down };
    up.settings = impairment.up;
    down.settings = impairment.down;
  };
  let closing: Promise<void> | undefined;
  return {
    host: options.listenHost,
    port: options.port,
    impairment,
    set,
    clear: () => set({ up: {}, down: {} }),
    select(next) {
      selector = next;
      for (const flow of udpFlows.values()) flow.impaired = selector(flow);
      for (const flow of tcpFlows) flow.impaired = selector(flow);
    },
    counters: () => ({ up: { ...up.counters }, down: { ...down.counters } }),
    close() {
      closing ??= (async () => {
        clearInterval(sweep);
        up.close();
        down.close();
        for (const flow of udpFlows.values()) flow.upstream.close();
        udpFlows.clear();
        for (const socket of tcpSockets) socket.destroy();
        await new Promise<void>((resolve) => udp.close(() => resolve()));
        await new Promise<void>((resolve) => tcp.close(() => resolve()));
      })();
      return closing;
    },
  };
}

/**
 * A tiny admin endpoint for trying the relay by hand: GET / answers the impairment and counters,
 * PUT / with `{ "up": {...}, "down": {...} }` changes it. Loopback only; for benches, not deployments.
 */
export async function startImpairmentAdmin(
  relay: ImpairmentRelay,
  port = 0,
): Promise<{ url: string; close(): Promise<void> }> {
  const server: HttpServer = createHttpServer((request, response) => {
    const answer = (status: number, body: unknown) => {
      response.writeHead(status, { 'content-type': 'application/json' });
      response.end(JSON.stringify(body));
    };
    if (request.method === 'GET') return answer(200, { ...relay.impairment, counters: relay.counters() });
    if (request.method !== 'PUT') return answer(405, { code: 'methodNotAllowed', message: 'GET or PUT' });
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as Partial<Impairment>;
        const link = (value: unknown) => {
          if (value === undefined) return undefined;
          if (typeof value !== 'object' || value === null) throw new Error('a link is an object');
          for (const [key, number] of Object.entries(value))
            if (
              !['rateKbps', 'lossPercent', 'delayMs', 'jitterMs', 'queueMs'].includes(key) ||
              !(Number(number) >= 0)
            )
              throw new Error(`${key}: not a known setting with a number ≥ 0`);
          return value as LinkImpairment;
        };
        const next = { up: link(body.up), down: link(body.down) };
        relay.set({ ...(next.up ? { up: next.up } : {}), ...(next.down ? { down: next.down } : {}) });
        answer(200, relay.impairment);
      } catch (error) {
        answer(400, { code: 'invalidImpairment', message: (error as Error).message });
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}/`,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
