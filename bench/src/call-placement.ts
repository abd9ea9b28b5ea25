/**
 * Call placement across call nodes: synthetic 1:1 consultation rooms made through triage's POST
 * /calls (placement on, on a Redis of the bench's own), placed on call-node processes
 * (`signalling/src/server.ts`, one media worker each, announcing themselves with
 * SIGNALLING_PUBLIC_URL), joined over socket.io as the pages join (clinician, patient, admit, a send
 * and a receive transport each, Opus + ~600 kbps VP8 produced and consumed both ways), with media
 * flowing: the call node takes media only over ICE + DTLS-SRTP, which Node has no stack for, so the
 * bench's own mediasoup worker does the DTLS and SRTP and an ICE relay (support/ice-relay.ts) joins
 * its WebRtcTransports to the node's. Ramped until more than 1 % of the media is lost or a node's
 * worker passes 85 % of a core; one call node, then two, in the same run. Prints figures; asserts
 * nothing.
 */
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { readdirSync, readFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { Redis } from 'ioredis';
import * as mediasoup from 'mediasoup';
import type { types } from 'mediasoup';
import type { Socket } from 'socket.io-client';
import { defaultTokenIssuer, type JoinResult, type TransportResult } from '@gpc/contracts';
import { mediaCodecs } from '@gpc/media';
import {
  CleanupStack,
  freePort,
  seedConsultation,
  startRedis,
  startTriage,
  track,
  waitFor,
  type ChildService,
  type StaffClient,
  type TestTriage,
} from '@gpc/test-support';
import { generateSigningKey, liveCallNodes, TokenKeys } from '@gpc/triage';
import { CallSockets, nextEvent, ok } from '../../signalling/test/support/call-sockets';
import { IceRelay } from './support/ice-relay';
import { RtpLoad, syntheticCodecs, type SyntheticSender } from './sfu/rtp-load';

const repoRoot = path.resolve(import.meta.dirname, '../..');
const steps = (process.env.BENCH_ROOM_STEPS ?? '5,10,20,30,40,50,60,80,100,120,150').split(',').map(Number);
const settleMs = 2000;
const measureMs = 4000;
const clockTicksPerSecond = 100;
/** Rooms set up at once (each one's own steps in order). */
const concurrency = 4;
/**
 * Loss is counted against what reached the call node, so media the bench side did not send (the
 * generator late) or lost on its way (its mediasoup workers, the relay) only lightens the load; past
 * this share of the nominal load not reaching the node, the step says more of the bench than the node.
 */
const offeredShortLimit = 0.3;

/** sfu-capacity's RTP generator on its own thread, paced by the wall clock (support/paced-load-thread.ts). */
class Generator {
  private readonly worker = new Worker(new URL('./support/paced-load-thread.ts', import.meta.url));

  add(sender: SyntheticSender): void {
    this.worker.postMessage({ type: 'add', sender });
  }

  async count(): Promise<number> {
    const answer = once(this.worker, 'message') as Promise<[{ count: number }]>;
    this.worker.postMessage({ type: 'count' });
    return (await answer)[0].count;
  }

  async close(): Promise<void> {
    this.worker.postMessage({ type: 'close' });
    await once(this.worker, 'exit');
  }
}

function cpuTicks(pid: number): number {
  try {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]); // utime + stime
  } catch {
    return NaN;
  }
}

/** The mediasoup workers a call-node process started (its children named mediasoup-worker). */
function mediaWorkerPids(parent: number): number[] {
  return readdirSync('/proc')
    .filter((name) => /^\d+$/.test(name))
    .flatMap((name) => {
      try {
        const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
        const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
        const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        return ppid === parent && comm.startsWith('mediasoup-worke') ? [Number(name)] : [];
      } catch {
        return [];
      }
    });
}

/** UDP datagrams this machine dropped for a full receive buffer so far (every process's, /proc/net/snmp). */
function udpReceiveBufferDrops(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8')
    .split('\n')
    .filter((line) => line.startsWith('Udp:'));
  const [names, values] = lines.map((line) => line.split(/\s+/));
  const at = names?.indexOf('RcvbufErrors') ?? -1;
  return at > 0 ? Number(values?.[at]) : NaN;
}

/** Without transport-wide congestion control and abs-send-time: no bandwidth estimation, no probes. */
function withoutBandwidthEstimation(caps: types.RtpCapabilities): types.RtpCapabilities {
  return {
    codecs: (caps.codecs ?? []).map((codec) => ({
      ...codec,
      rtcpFeedback: (codec.rtcpFeedback ?? []).filter(
        (fb) => fb.type !== 'transport-cc' && fb.type !== 'goog-remb',
      ),
    })),
    headerExtensions: (caps.headerExtensions ?? []).filter(
      (ext) => !ext.uri.includes('transport-wide-cc') && !ext.uri.includes('abs-send-time'),
    ),
  };
}

interface CallNodeProcess {
  id: string;
  url: string;
  service: ChildService;
  workerPids: number[];
}

async function startCallNodeProcess(id: string, redisUrl: string, jwks: string): Promise<CallNodeProcess> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const service = track(
    spawn(process.execPath, ['--import', 'tsx', 'signalling/src/server.ts'], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH ?? '',
        MEDIASOUP_WORKER_BIN: process.env.MEDIASOUP_WORKER_BIN ?? '',
        SIGNALLING_PORT: String(port),
        SIGNALLING_RTC_PORT: String(await freePort()),
        SIGNALLING_MEDIA_WORKERS: '1',
        SIGNALLING_JWKS: jwks,
        SIGNALLING_REDIS_URL: redisUrl,
        SIGNALLING_PUBLIC_URL: url,
        SIGNALLING_NODE_ID: id,
        SIGNALLING_LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    }),
  );
  return { id, url, service, workerPids: [] };
}

async function stopCallNodeProcess(node: CallNodeProcess): Promise<void> {
  node.service.child.kill('SIGINT');
  const stopped = await Promise.race([
    node.service.exited.then(() => true),
    new Promise((resolve) => setTimeout(() => resolve(false), 10_000)),
  ]);
  if (!stopped) await node.service.kill();
}

interface StepResult {
  rooms: number;
  perNode: Map<string, number>;
  loss: number;
  workerCpu: Map<string, number>;
  maxWorkerCpu: number;
  totalWorkerCpu: number;
  nodeProcessCpu: number;
  benchWorkerCpu: number;
  benchProcessCpu: number;
  forwardedPerSecond: number;
  generatorShort: number;
  benchShort: number;
  /** The machine's 1-minute load average as the step ended. */
  load: number;
  /** UDP datagrams dropped machine-wide for full receive buffers during the step, per second. */
  udpDropsPerSecond: number;
}

/** One setup: triage, a Redis, `nodeCount` call-node processes, the bench's media side. */
class Setup {
  readonly nodes: CallNodeProcess[] = [];
  readonly roomsOn = new Map<string, number>();
  private readonly sockets = new CallSockets();
  private benchWorkers: types.Worker[] = [];
  private benchRouters: types.Router[] = [];
  private relay!: IceRelay;
  private generator!: Generator;
  private clinicianApi!: StaffClient;
  private ssrc = 1000;
  rooms = 0;

  constructor(
    private readonly nodeCount: number,
    private readonly triage: TestTriage,
    private readonly redis: Redis,
    private readonly redisUrl: string,
    private readonly jwks: string,
  ) {}

  get label(): string {
    return `${this.nodeCount} call node${this.nodeCount > 1 ? 's' : ''}`;
  }

  async start(): Promise<void> {
    this.clinicianApi = this.triage.as(this.triage.practiceA, 'clinician');
    for (let i = 0; i < this.nodeCount; i++)
      this.nodes.push(await startCallNodeProcess(`bench-node-${i}`, this.redisUrl, this.jwks));
    await waitFor(
      () => `the call nodes to announce themselves: ${this.nodes.map((n) => n.service.output()).join('\n')}`,
      async () => {
        const live = await liveCallNodes(this.redis);
        return this.nodes.every((node) => live.some((each) => each.id === node.id));
      },
      { timeoutMs: 60_000 },
    );
    for (const node of this.nodes) {
      node.workerPids = mediaWorkerPids(node.service.child.pid!);
      this.roomsOn.set(node.id, 0);
    }
    // the bench's media side: as many workers as there are nodes, so it does not set the limit alone
    for (let i = 0; i < Math.max(2, this.nodeCount); i++) {
      const worker = await mediasoup.createWorker({ logLevel: 'error' });
      this.benchWorkers.push(worker);
      this.benchRouters.push(await worker.createRouter({ mediaCodecs }));
    }
    const caps = this.benchRouters[0]!.rtpCapabilities;
    const mediaTypes = (caps.codecs ?? [])
      .filter((codec) => codec.mimeType === 'audio/opus' || codec.mimeType === 'video/VP8')
      .map((codec) => codec.preferredPayloadType!);
    this.relay = new IceRelay(mediaTypes);
    this.generator = new Generator();
  }

  /** A room made by triage and set up on the node it was placed on, media flowing both ways. */
  private async addRoom(index: number): Promise<void> {
    const router = this.benchRouters[index % this.benchRouters.length]!;
    const consultationId = await seedConsultation(this.triage.db.pool, this.triage.practiceA.id);
    const created = await this.clinicianApi.inject({
      method: 'POST',
      url: '/calls',
      payload: { consultationId },
    });
    if (created.statusCode !== 201) throw new Error(`POST /calls: ${created.statusCode} ${created.body}`);
    const { patientLink, hostToken, nodeUrl } = created.json<{
      patientLink: string;
      hostToken: string;
      nodeUrl: string;
    }>();
    const node = this.nodes.find((each) => each.url === nodeUrl);
    if (!node) throw new Error(`placed on ${nodeUrl}, which is not one of this setup's nodes`);
    this.roomsOn.set(node.id, (this.roomsOn.get(node.id) ?? 0) + 1);

    const clinician = await this.sockets.connect({ url: nodeUrl }, { token: hostToken });
    const join: JoinResult = await ok(clinician, 'call:join', {});
    const patient = await this.sockets.connect({ url: nodeUrl }, { token: patientLink.split('#t=')[1]! });
    const patientJoin: JoinResult = await ok(patient, 'call:join', {});
    const admitted = nextEvent(patient, 'admitted');
    await ok(clinician, 'call:admit', { participantId: patientJoin.self.participantId });
    await admitted;
    const caps = withoutBandwidthEstimation(join.routerRtpCapabilities);
    const produced = [await this.send(clinician, router, caps), await this.send(patient, router, caps)];
    await this.receive(clinician, router, caps, produced[1]!);
    await this.receive(patient, router, caps, produced[0]!);
  }

  /** The node's transport and the bench's joined through the relay, DTLS between them. */
  private async pair(
    direction: 'send' | 'recv',
    socket: Socket,
    router: types.Router,
  ): Promise<{ node: TransportResult; bench: types.WebRtcTransport }> {
    const node = await ok(socket, 'transport:create', { direction });
    const bench = await router.createWebRtcTransport({
      listenIps: [{ ip: '127.0.0.1' }],
      enableUdp: true,
      enableTcp: false,
    });
    const candidate = (node.iceCandidates as unknown as types.IceCandidate[]).find(
      (c) => c.protocol === 'udp',
    )!;
    const ours = bench.iceCandidates[0]!;
    const nodeIce = node.iceParameters as unknown as types.IceParameters;
    await this.relay.add({
      direction,
      node: {
        ip: candidate.ip,
        port: candidate.port,
        usernameFragment: nodeIce.usernameFragment,
        password: nodeIce.password,
      },
      bench: {
        ip: ours.ip,
        port: ours.port,
        usernameFragment: bench.iceParameters.usernameFragment,
        password: bench.iceParameters.password,
      },
    });
    // the node is the DTLS server, the bench's worker the client
    await ok(socket, 'transport:connect', {
      transportId: node.transportId,
      dtlsParameters: { role: 'client', fingerprints: bench.dtlsParameters.fingerprints },
    });
    const nodeDtls = node.dtlsParameters as unknown as types.DtlsParameters;
    await bench.connect({ dtlsParameters: { role: 'server', fingerprints: nodeDtls.fingerprints } });
    return { node, bench };
  }

  /** Produces a participant's Opus and VP8 on the node; returns the node's producer ids. */
  private async send(socket: Socket, router: types.Router, caps: types.RtpCapabilities): Promise<string[]> {
    const { node, bench } = await this.pair('send', socket, router);
    const plain = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: true });
    const audioSsrc = this.ssrc++;
    const videoSsrc = this.ssrc++;
    const sources = [
      await plain.produce({
        kind: 'audio',
        rtpParameters: { ...syntheticCodecs.audio, encodings: [{ ssrc: audioSsrc }] },
      }),
      await plain.produce({
        kind: 'video',
        rtpParameters: { ...syntheticCodecs.video, encodings: [{ ssrc: videoSsrc }] },
      }),
    ];
    const ids: string[] = [];
    for (const source of sources) {
      const toNode = await bench.consume({ producerId: source.id, rtpCapabilities: caps, paused: false });
      const { producerId } = await ok(socket, 'produce', {
        transportId: node.transportId,
        kind: source.kind,
        rtpParameters: toNode.rtpParameters,
      });
      ids.push(producerId);
    }
    this.generator.add({ audioSsrc, videoSsrc, target: { ip: '127.0.0.1', port: plain.tuple.localPort } });
    return ids;
  }

  /** Consumes the other participant's producers from the node and resumes them. */
  private async receive(
    socket: Socket,
    router: types.Router,
    caps: types.RtpCapabilities,
    producerIds: string[],
  ): Promise<void> {
    const { node } = await this.pair('recv', socket, router);
    for (const producerId of producerIds) {
      const consumer = await ok(socket, 'consume', {
        transportId: node.transportId,
        producerId,
        rtpCapabilities: caps,
      });
      await ok(socket, 'consumer:resume', { consumerId: consumer.consumerId });
    }
  }

  async growTo(target: number): Promise<void> {
    while (this.rooms < target) {
      const batch = Math.min(concurrency, target - this.rooms);
      await Promise.all(Array.from({ length: batch }, (_, i) => this.addRoom(this.rooms + i)));
      this.rooms += batch;
    }
  }

  async measure(): Promise<StepResult> {
    await new Promise((resolve) => setTimeout(resolve, settleMs));
    const workerPids = this.nodes.flatMap((node) => node.workerPids.map((pid) => ({ node: node.id, pid })));
    const nodePids = this.nodes.map((node) => node.service.child.pid!);
    const benchPids = this.benchWorkers.map((worker) => worker.pid);
    const ticks = () => ({
      workers: workerPids.map(({ pid }) => cpuTicks(pid)),
      nodes: nodePids.map(cpuTicks),
      bench: benchPids.map(cpuTicks),
      self: process.cpuUsage(),
      udpDrops: udpReceiveBufferDrops(),
    });
    const before = {
      sent: await this.generator.count(),
      relay: await this.relay.counts(),
      ticks: ticks(),
      at: performance.now(),
    };
    await new Promise((resolve) => setTimeout(resolve, measureMs));
    const seconds = (performance.now() - before.at) / 1000;
    const after = { sent: await this.generator.count(), relay: await this.relay.counts(), ticks: ticks() };
    const share = (a: number, b: number) => (b - a) / clockTicksPerSecond / seconds;
    const workerCpu = new Map<string, number>();
    workerPids.forEach(({ node }, i) =>
      workerCpu.set(
        node,
        (workerCpu.get(node) ?? 0) + share(before.ticks.workers[i]!, after.ticks.workers[i]!),
      ),
    );
    const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
    const toNodes = after.relay.toNodes - before.relay.toNodes;
    const fromNodes = after.relay.fromNodes - before.relay.fromNodes;
    const intended = this.rooms * 2 * RtpLoad.packetsPerSecondPerSender * seconds;
    const self = process.cpuUsage(before.ticks.self);
    return {
      rooms: this.rooms,
      perNode: new Map(this.roomsOn),
      // each packet sent in a 1:1 room is forwarded to exactly one consumer
      loss: toNodes > 0 ? Math.max(0, 1 - fromNodes / toNodes) : 0,
      workerCpu,
      maxWorkerCpu: Math.max(...workerCpu.values()),
      totalWorkerCpu: sum([...workerCpu.values()]),
      nodeProcessCpu: sum(nodePids.map((_, i) => share(before.ticks.nodes[i]!, after.ticks.nodes[i]!))),
      benchWorkerCpu: sum(benchPids.map((_, i) => share(before.ticks.bench[i]!, after.ticks.bench[i]!))),
      benchProcessCpu: (self.user + self.system) / 1e6 / seconds,
      forwardedPerSecond: fromNodes / seconds,
      generatorShort: Math.max(0, 1 - (after.sent - before.sent) / intended),
      benchShort: Math.max(0, 1 - toNodes / Math.max(1, after.sent - before.sent)),
      load: loadavg()[0]!,
      udpDropsPerSecond: (after.ticks.udpDrops - before.ticks.udpDrops) / seconds,
    };
  }

  async close(): Promise<void> {
    this.sockets.closeAll();
    await this.generator?.close();
    await this.relay?.close();
    for (const worker of this.benchWorkers) worker.close();
    for (const node of this.nodes) await stopCallNodeProcess(node);
  }
}

const pct = (share: number, digits = 0) => `${(share * 100).toFixed(digits)} %`;

function printStep(label: string, r: StepResult): void {
  const spread = [...r.perNode.entries()].map(([id, n]) => `${id.replace('bench-', '')} ${n}`).join(' / ');
  const workers = [...r.workerCpu.values()].map((cpu) => pct(cpu).padStart(5)).join(' ');
  console.log(
    `  ${label.padEnd(12)} rooms ${String(r.rooms).padStart(4)} (${spread})  loss ${pct(r.loss, 2).padStart(8)}  ` +
      `node worker CPU ${workers}  node JS ${pct(r.nodeProcessCpu).padStart(5)}  ` +
      `bench worker ${pct(r.benchWorkerCpu).padStart(5)} bench JS ${pct(r.benchProcessCpu).padStart(5)}  ` +
      `forwarded ${Math.round(r.forwardedPerSecond).toString().padStart(6)} pkt/s  generator short ${pct(r.generatorShort, 1)} bench lost ${pct(r.benchShort, 1)}  ` +
      `UDP buffer drops ${Math.round(r.udpDropsPerSecond)}/s (whole machine)  load ${r.load.toFixed(2)}`,
  );
}

const withinLimits = (r: StepResult) =>
  r.loss <= 0.01 &&
  r.maxWorkerCpu <= 0.85 &&
  1 - (1 - r.generatorShort) * (1 - r.benchShort) <= offeredShortLimit;

/** Why the first step out of limits was. */
function stopReason(results: StepResult[]): string {
  const out = results.find((each) => !withinLimits(each));
  if (!out) return results.length === 0 ? 'no step ran' : 'largest step reached';
  const at = ` at ${out.rooms} rooms`;
  if (1 - (1 - out.generatorShort) * (1 - out.benchShort) > offeredShortLimit)
    return `less than 70 % of the nominal load reached the node: the bench side could not keep up (same cores)${at}`;
  if (out.loss > 0.01) return `loss above 1 %${at}`;
  return `a node worker above 85 % CPU${at}`;
}

async function ramp(setup: Setup): Promise<StepResult[]> {
  const results: StepResult[] = [];
  for (const target of steps) {
    await setup.growTo(target);
    const result = await setup.measure();
    results.push(result);
    printStep(setup.label, result);
    // on a shared machine one step's loss may be another process's doing: the ramp goes one step
    // further after a breach (never after a worker past 85 %), and stops at the second in a row
    const breaches = results.slice(-2).filter((each) => !withinLimits(each)).length;
    if (result.maxWorkerCpu > 0.85 || breaches === 2) break;
  }
  return results;
}

/** The largest step before the first one out of limits. */
function capacity(results: StepResult[]): StepResult | undefined {
  const firstOut = results.findIndex((each) => !withinLimits(each));
  return (firstOut < 0 ? results : results.slice(0, firstOut)).at(-1);
}

/** How evenly the rooms were spread: the fullest node's share over an even share (1 is even). */
function unevenness(perNode: Map<string, number>): number {
  const counts = [...perNode.values()];
  const total = counts.reduce((a, b) => a + b, 0);
  return total === 0 ? 1 : Math.max(...counts) / (total / counts.length);
}

async function main(): Promise<void> {
  const cleanup = new CleanupStack();
  try {
    const [one, five, fifteen] = loadavg();
    console.log(
      'Call placement: 1:1 rooms made by triage (POST /calls, placement on) and placed on call-node processes, ' +
        `each room 2 x (Opus 50 pkt/s + VP8 600 kbps 75 pkt/s) in, 4 consumers out; one media worker per node; rooms made ${concurrency} at a time`,
    );
    console.log(
      `  load average at start ${one!.toFixed(2)} ${five!.toFixed(2)} ${fifteen!.toFixed(2)}; ` +
        "on a 2-core machine the generator, the ICE relay and the bench's own mediasoup workers (DTLS-SRTP) " +
        "compete for the same cores as the call nodes, so two nodes cannot show two cores' worth",
    );
    const redisServer = await startRedis();
    cleanup.after(() => redisServer.remove());
    const redis = new Redis(redisServer.url);
    cleanup.after(() => redis.disconnect());
    const signingKey = generateSigningKey();
    const triage = await startTriage(cleanup, {
      callPlacement: redis,
      signingKeys: [signingKey],
      rateLimitAllowList: ['127.0.0.1'],
    });
    const jwks = JSON.stringify(new TokenKeys([signingKey], defaultTokenIssuer).publicJwks());

    const results = new Map<number, StepResult[]>();
    for (const nodeCount of [1, 2]) {
      const setup = new Setup(nodeCount, triage, redis, redisServer.url, jwks);
      try {
        await setup.start();
        results.set(nodeCount, await ramp(setup));
      } finally {
        await setup.close();
      }
      const best = capacity(results.get(nodeCount) ?? []);
      const anyWithin = (results.get(nodeCount) ?? []).filter(withinLimits).at(-1);
      console.log(
        best
          ? `${setup.label}: ${best.rooms} rooms within limits (stopped: ${stopReason(results.get(nodeCount) ?? [])}); ` +
              `node workers ${pct(best.totalWorkerCpu)} in all, ${Math.round(best.forwardedPerSecond)} packets/s forwarded`
          : `${setup.label}: no step within limits (stopped: ${stopReason(results.get(nodeCount) ?? [])})`,
      );
      if (anyWithin && anyWithin !== best)
        console.log(
          `  (a later step came back within limits: ${anyWithin.rooms} rooms, a sign of the machine's load rather than the node's)`,
        );
      await redis.flushdb(); // the next setup's nodes start from an empty placement
    }

    const bestOf = (n: number) => capacity(results.get(n) ?? []);
    const [oneNode, twoNodes] = [bestOf(1), bestOf(2)];
    console.log('\nsummary');
    if (oneNode && twoNodes)
      console.log(
        `  2 nodes / 1 node, rooms within limits: ${twoNodes.rooms} / ${oneNode.rooms} = ${(twoNodes.rooms / oneNode.rooms).toFixed(2)}` +
          '   (ideal 2.0 where each node has a core of its own)',
      );
    const twoSteps = results.get(2) ?? [];
    const common = (results.get(1) ?? []).filter((a) => twoSteps.some((b) => b.rooms === a.rooms)).at(-1);
    const twin = common && twoSteps.find((b) => b.rooms === common.rooms);
    if (common && twin)
      console.log(
        `  busiest node worker's CPU at ${common.rooms} rooms, 1 node / 2 nodes: ${(common.maxWorkerCpu / twin.maxWorkerCpu).toFixed(2)}` +
          '   (headroom a second node adds, where the bench cannot saturate both)',
      );
    for (const a of results.get(1) ?? []) {
      const b = twoSteps.find((each) => each.rooms === a.rooms);
      if (b)
        console.log(
          `  ${String(a.rooms).padStart(4)} rooms: loss ${pct(a.loss, 2)} on 1 node, ${pct(b.loss, 2)} on 2; ` +
            `busiest worker ${pct(a.maxWorkerCpu)} on 1 node, ${pct(b.maxWorkerCpu)} on 2 (load ${a.load.toFixed(1)} / ${b.load.toFixed(1)})`,
        );
    }
    const lastTwo = twoSteps.at(-1);
    if (lastTwo)
      console.log(
        `  placement spread at ${lastTwo.rooms} rooms on 2 nodes: ${[...lastTwo.perNode.values()].join(' / ')} ` +
          `(fullest node / even share = ${unevenness(lastTwo.perNode).toFixed(2)}; 1.00 is even)`,
      );
    const [a, b, c] = loadavg();
    console.log(`  load average at end ${a!.toFixed(2)} ${b!.toFixed(2)} ${c!.toFixed(2)}`);
  } finally {
    await cleanup.run();
  }
}

await main();
