/**
 * The faults of the chaos run, in the order they run. Each breaks one thing for a bounded time
 * and mends it; the runner counts what users saw meanwhile and checks the invariants afterwards.
 * More faults join by adding to `faults` (the deploy issue: a whole call node lost), each with
 * `inject` and `restore`; the MESH route's are in mesh-faults.ts.
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
];
