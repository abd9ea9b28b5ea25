/**
 * The faults of the chaos run, in the order they run. Each breaks one thing for a bounded time
 * and mends it; the runner counts what users saw meanwhile and checks the invariants afterwards.
 * More faults join by adding to `faults`, each with `inject` and `restore`; the MESH route's are in
 * mesh-faults.ts.
 */
import type { Socket } from 'socket.io-client';
import { joinCall, type Load } from './load';
import { meshFaults } from './mesh-faults';
import type { World } from './world';

export interface FaultContext {
  world: World;
  load: Load;
  /** How long an outage lasts. */
  outageMs: number;
  /** How long a killed process stays down before it is started again (as a supervisor would). */
  restartDelayMs: number;
}

export interface Fault {
  name: string;
  /** Breaks it; resolves with what was done, in words, once it is broken. */
  inject(context: FaultContext): Promise<string>;
  /** How long it stays broken before `restore`. */
  holdMs(context: FaultContext): number;
  /** Mends it; resolves once the broken part is back (the clock for recovery starts then). */
  restore(context: FaultContext): Promise<string>;
  /** Whether it needs the call node (skipped with `--no-calls`). */
  calls?: true;
  /** Lines for the report that only this fault can tell (e.g. its calls' rejoins). */
  observe?(context: FaultContext): Promise<string[]>;
}

const seconds = (ms: number) => `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`;

const outage = (context: FaultContext) => context.outageMs;
const restartDelay = (context: FaultContext) => context.restartDelayMs;

/** kill -9 of a service process, and its restart after the delay a supervisor would take. */
function killAndRestart(name: string, what: string, calls?: true): Fault {
  return {
    name: `kill -9 of ${what}`,
    ...(calls ? { calls } : {}),
    async inject({ world }) {
      const service = world.process(name);
      const pid = service.pid;
      await service.kill9();
      return `SIGKILL to ${name} (pid ${pid})`;
    },
    holdMs: restartDelay,
    async restore({ world }) {
      const started = Date.now();
      await world.process(name).start();
      return `${name} started again, ready in ${seconds(Date.now() - started)}`;
    },
  };
}

/** Calls held open through the media worker fault, and when each was told to rejoin and did. */
interface StandingCall {
  socket: Socket;
  rejoinAsked?: number;
  rejoined?: number;
  outcome?: string;
}
let standing: StandingCall[] = [];
let workerKilledAt = 0;

const mediaWorkerKilled: Fault = {
  name: 'a mediasoup worker killed under calls',
  calls: true,
  async inject({ world, load }) {
    // a few calls, so some sit on the worker that dies and some on the one that survives
    standing = [];
    for (let i = 0; i < 4; i++) {
      const socket = await load.standingCall();
      if (!socket) continue;
      const call: StandingCall = { socket };
      socket.on('call:rejoin', () => {
        call.rejoinAsked = Date.now();
        void joinCall(socket).then((outcome) => {
          call.outcome = outcome;
          if (outcome === 'ok') call.rejoined = Date.now();
        });
      });
      standing.push(call);
    }
    const node = world.process('signalling');
    const [worker] = node.childPids();
    if (worker === undefined) return `no mediasoup worker found under the call node (pid ${node.pid})`;
    process.kill(worker, 'SIGKILL');
    workerKilledAt = Date.now();
    return `SIGKILL to mediasoup worker pid ${worker} (child of the call node, pid ${node.pid}), ${standing.length} calls joined`;
  },
  holdMs: () => 0,
  async restore({ world }) {
    // the call node replaces the worker itself; back when it reports its workers again
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline) {
      const ready = await fetch(`http://127.0.0.1:${world.settings.signallingPort}/readyz`)
        .then((response) => response.json() as Promise<{ mediaWorkers?: number }>)
        .catch(() => undefined);
      if (ready?.mediaWorkers === world.settings.mediaWorkers)
        return `the call node runs ${ready.mediaWorkers} workers again`;
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
    return `the call node did not report ${world.settings.mediaWorkers} workers within 30 s`;
  },
  async observe() {
    await new Promise((resolve) => setTimeout(resolve, 6000));
    const asked = standing.filter((call) => call.rejoinAsked);
    const lines = [
      `standing calls: ${standing.length}, told to rejoin: ${asked.length}, untouched: ${standing.length - asked.length}`,
      ...asked.map(
        (call, i) =>
          `  call ${i + 1}: ${call.rejoined ? `rejoined ${seconds(call.rejoined - workerKilledAt)} after the kill` : `not rejoined (${call.outcome ?? 'no answer yet'})`}`,
      ),
    ];
    for (const call of standing) call.socket.disconnect();
    return lines;
  },
};

/** A call held open on a node, and whether and when it came back elsewhere after that node was killed. */
interface PlacedCall {
  callId: string;
  nodeId: string | undefined;
  nodeUrl: string | undefined;
  socket: Socket;
  /** Where it rejoined, and when. */
  rejoinedOn?: string;
  rejoined?: number;
  outcome?: string;
}
let placed: PlacedCall[] = [];
let nodeKilledAt = 0;
let killedNode = '';
let following = false;
/** What the run aims for: calls on a lost node back on a survivor within this. */
const rejoinTargetMs = 5000;
const nodeIdOf = (nodeUrl: string | undefined) => nodeUrl?.split('/').pop();

/**
 * What the clinician's page does when its socket drops: socket.io tries the same node again
 * (through the site's web server, ~1 s later, then every 1-2 s), and every 2 s the page asks for a
 * fresh host token and where the call lives now; once it is placed on another node, it joins there
 * (the join a page makes, and a send transport on that node's router).
 */
async function followCall(call: PlacedCall, load: Load, nodeUrl: string | undefined): Promise<void> {
  const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
  const deadline = Date.now() + 60_000;
  const retryOld = async (token: string) => {
    const socket = load.callSocket(token, nodeUrl);
    await joinCall(socket);
    socket.disconnect();
  };
  let token = (await load.hostToken(call.callId))?.token;
  await sleep(1000);
  if (token) await retryOld(token);
  await sleep(1000);
  while (following && Date.now() < deadline) {
    const answer = await load.hostToken(call.callId);
    const nodeId = nodeIdOf(answer?.nodeUrl);
    if (answer && nodeId && nodeId !== killedNode) {
      const socket = load.callSocket(answer.token, answer.nodeUrl);
      call.outcome = await joinCall(socket);
      if (call.outcome === 'ok') {
        call.rejoined = Date.now();
        call.rejoinedOn = nodeId;
        call.socket = socket;
        return;
      }
      socket.disconnect();
    }
    token = answer?.token ?? token;
    if (token) await retryOld(token);
    await sleep(2000);
  }
  call.outcome ??= 'still placed on the killed node';
}

const callNodeKilledWithSurvivor: Fault = {
  name: 'a call node killed (SIGKILL) while a second one survives: its calls placed again there',
  calls: true,
  async inject({ world, load }) {
    placed = [];
    following = true;
    const victim = world.callNodes[0];
    if (!victim || world.callNodes.length < 2) return 'no second call node: nothing to place calls on';
    killedNode = victim.nodeId;
    // calls made in a row spread across the two nodes (triage places each on the least loaded)
    // (the load may not have an open request to start a call for yet: it tries for a while)
    const deadline = Date.now() + 60_000;
    while (placed.length < 4 && Date.now() < deadline) {
      const call = await load.placedCall();
      if (call)
        placed.push({
          callId: call.callId,
          nodeId: nodeIdOf(call.nodeUrl),
          nodeUrl: call.nodeUrl,
          socket: call.socket,
        });
      else await new Promise((resolve) => setTimeout(resolve, 500));
    }
    const onVictim = placed.filter((call) => call.nodeId === victim.nodeId);
    const service = world.process(victim.process);
    const pid = service.pid;
    await service.kill9();
    nodeKilledAt = Date.now();
    for (const call of onVictim) void followCall(call, load, call.nodeUrl);
    const where = placed.map((call) => call.nodeId ?? 'no node').join(', ');
    return `SIGKILL to call node ${victim.nodeId} (pid ${pid}); ${placed.length} calls joined, on ${where}; ${onVictim.length} on the killed node`;
  },
  // long enough for the killed node's heartbeat key to expire (6 s) and its calls to move
  holdMs: (context) => Math.max(context.outageMs, 15_000),
  async restore({ world }) {
    const started = Date.now();
    await world.process(world.callNodes[0]!.process).start();
    return `${killedNode} started again, ready in ${seconds(Date.now() - started)}`;
  },
  observe() {
    following = false;
    const moved = placed.filter((call) => call.nodeId === killedNode);
    const back = moved.filter((call) => call.rejoined !== undefined);
    const times = back.map((call) => call.rejoined! - nodeKilledAt).sort((a, b) => a - b);
    const within = times.filter((ms) => ms <= rejoinTargetMs).length;
    const lines = [
      `calls on the killed node: ${moved.length}, rejoined on a surviving node: ${back.length}` +
        (times.length ? `, ${times.map(seconds).join(', ')} after the kill` : '') +
        ` (${within} of ${moved.length} within the ${seconds(rejoinTargetMs)} aimed for;` +
        " the pages' pace: socket.io retries the node after ~1 s, which the web server finds refused and" +
        ' withdraws; placement asked every 2 s)',
      ...moved.map(
        (call, i) =>
          `  call ${i + 1}: ${call.rejoined ? `rejoined on ${call.rejoinedOn} ${seconds(call.rejoined - nodeKilledAt)} after the kill` : `not rejoined (${call.outcome ?? 'no answer yet'})`}`,
      ),
    ];
    for (const call of placed) call.socket.disconnect();
    return Promise.resolve(lines);
  },
};

export const faults: Fault[] = [
  {
    name: 'Redis killed, back with its append-only file',
    async inject({ world }) {
      await world.redis.down();
      return 'SIGKILL to redis-server';
    },
    holdMs: outage,
    async restore({ world }) {
      await world.redis.up();
      return 'redis-server started on the same port and data directory (AOF replayed)';
    },
  },
  {
    name: 'Redis killed, back EMPTY (its files gone, as a failover without data)',
    async inject({ world }) {
      await world.redis.down();
      return 'SIGKILL to redis-server';
    },
    holdMs: outage,
    async restore({ world }) {
      await world.redis.up({ empty: true });
      return 'redis-server started with an empty data directory: every queue and job gone';
    },
  },
  {
    name: 'PostgreSQL crashed mid-load',
    async inject({ world }) {
      await world.postgres.crash();
      return 'SIGKILL to the postmaster and every backend (no shutdown checkpoint)';
    },
    holdMs: outage,
    async restore({ world }) {
      const started = Date.now();
      await world.postgres.up();
      return `PostgreSQL started again (crash recovery), accepting connections in ${seconds(Date.now() - started)}`;
    },
  },
  {
    name: 'the GP record (FHIR endpoint) down',
    inject({ world }) {
      world.fhirProxy.setRule(() => ({
        kind: 'status',
        status: 503,
        text: 'Service unavailable (chaos run)',
      }));
      return Promise.resolve('every request to the FHIR endpoint answered 503');
    },
    holdMs: outage,
    restore({ world }) {
      world.fhirProxy.setRule(() => ({ kind: 'pass' }));
      return Promise.resolve('the FHIR endpoint answers again');
    },
  },
  killAndRestart('triage', 'triage (the API)'),
  killAndRestart('record', 'the record worker'),
  ...meshFaults,
  killAndRestart('signalling', 'the call node', true),
  mediaWorkerKilled,
  callNodeKilledWithSurvivor,
];
