import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { prettyFactory } from 'pino-pretty';

/** Something the set-up started and must stop again. */
export interface StartedService {
  name: string;
  stop(): Promise<void>;
}

export interface ServiceSpec {
  name: string;
  /** Entry file, relative to the repo root, run on this Node with tsx. */
  entry: string;
  env: Record<string, string>;
  /** Answers 2xx when the service is ready. */
  readyUrl: string;
  /**
   * Started once `readyUrl` answers at all, 503 included: a service that keeps running while a
   * dependency (Redis) is down, whose readiness `npm start` then watches and reports.
   */
  startedWhenAnswering?: true;
  /** How `npm start` stops it: SIGTERM unless said (a call node drains on SIGTERM; SIGINT stops it at once). */
  stopSignal?: NodeJS.Signals;
}

const colours = [36, 33, 35, 32, 34, 31];

/**
 * The services log JSON (pino) for machines; a developer's terminal gets one readable line per
 * entry: time, level, message, then the entry's ids. Lines that are not JSON pass through as they are.
 */
const readableLogLine = prettyFactory({
  colorize: process.stdout.isTTY,
  singleLine: true,
  translateTime: 'SYS:HH:MM:ss',
  ignore: 'pid,hostname,service',
});

/** A service process: its output prefixed with its name; stopped with SIGTERM, then SIGKILL after a grace period. */
export class ServiceProcess implements StartedService {
  readonly name: string;
  private readonly child: ChildProcess;
  readonly exited: Promise<number | null>;

  private readonly stopSignal: NodeJS.Signals;

  constructor(spec: ServiceSpec, index: number, cwd: string) {
    this.name = spec.name;
    this.stopSignal = spec.stopSignal ?? 'SIGTERM';
    this.child = spawn(process.execPath, ['--import', 'tsx', spec.entry], {
      cwd,
      env: { ...process.env, ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const prefix = `\x1b[${colours[index % colours.length]}m[${spec.name}]\x1b[0m `;
    for (const stream of [this.child.stdout, this.child.stderr]) {
      if (stream)
        createInterface({ input: stream }).on('line', (line) =>
          process.stdout.write(prefix + readableLogLine(line).trimEnd() + '\n'),
        );
    }
    this.exited = new Promise((resolve) => this.child.once('exit', (code) => resolve(code)));
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async waitReady(url: string, timeoutMs = 90_000, anyAnswer = false): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) throw new Error(`${this.name} exited during start-up (see its output above)`);
      try {
        const response = await fetch(url, { signal: AbortSignal.timeout(2000) });
        await response.arrayBuffer();
        if (response.ok || anyAnswer) return;
      } catch {
        // not listening yet
      }
      await new Promise((resolve) => setTimeout(resolve, 300));
    }
    throw new Error(`${this.name} did not become ready at ${url} within ${timeoutMs / 1000} s`);
  }

  async stop(graceMs = 10_000): Promise<void> {
    if (!this.running) return;
    this.child.kill(this.stopSignal);
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }
}

/** Stops services in reverse start order; never throws, so every one gets its turn. */
export async function stopAll(services: StartedService[], log: (line: string) => void): Promise<void> {
  for (const service of [...services].reverse()) {
    try {
      await service.stop();
    } catch (error) {
      log(`stopping ${service.name} failed: ${String(error)}`);
    }
  }
  services.length = 0;
}
