/**
 * One service of the chaos run in its own process, as `npm start` runs it (`node --import tsx
 * <entry>` with its spec's environment), its output kept in a log file of the run's temporary
 * folder rather than on the terminal. It can be killed with SIGKILL and started again; an exit
 * nobody asked for is remembered, for the "no process exited unexpectedly" invariant.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import path from 'node:path';
import type { ServiceSpec } from '../services';
import { repoRoot } from '../settings';

export interface UnexpectedExit {
  name: string;
  code: number | null;
  signal: NodeJS.Signals | null;
  at: number;
}

export class ChaosProcess {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  /** Set while an exit is ours (a kill or a stop), so it is not counted as unexpected. */
  private expectingExit = false;
  private readonly log: WriteStream;

  constructor(
    readonly spec: ServiceSpec,
    logDir: string,
    private readonly onUnexpectedExit: (exit: UnexpectedExit) => void,
  ) {
    this.log = createWriteStream(path.join(logDir, `${spec.name}.log`), { flags: 'a' });
  }

  get name(): string {
    return this.spec.name;
  }

  get pid(): number | undefined {
    return this.running ? this.child?.pid : undefined;
  }

  get running(): boolean {
    return !!this.child && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Starts the process and waits until its ready URL answers 2xx. */
  async start(timeoutMs = 90_000): Promise<void> {
    const child = spawn(process.execPath, ['--import', 'tsx', this.spec.entry], {
      cwd: repoRoot,
      env: { ...process.env, ...this.spec.env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child = child;
    this.expectingExit = false;
    child.stdout?.pipe(this.log, { end: false });
    child.stderr?.pipe(this.log, { end: false });
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        if (!this.expectingExit) this.onUnexpectedExit({ name: this.name, code, signal, at: Date.now() });
        resolve();
      }),
    );
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running)
        throw new Error(`${this.name} exited during start-up (its log: ${String(this.log.path)})`);
      const answer = await fetch(this.spec.readyUrl, { signal: AbortSignal.timeout(2000) }).catch(
        () => undefined,
      );
      await answer?.arrayBuffer().catch(() => undefined);
      if (answer?.ok) return;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    throw new Error(
      `${this.name} did not become ready at ${this.spec.readyUrl} within ${timeoutMs / 1000} s`,
    );
  }

  /** SIGKILL: no shutdown handler runs, as when a container is killed. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.expectingExit = true;
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** The process ids of its direct children (a call node's mediasoup workers). */
  childPids(): number[] {
    const pid = this.pid;
    if (pid === undefined) return [];
    const listed = spawnSync('ps', ['-o', 'pid=', '--ppid', String(pid)], { encoding: 'utf8' });
    return listed.stdout
      .split('\n')
      .map((line) => Number(line.trim()))
      .filter((child) => Number.isInteger(child) && child > 0);
  }

  /** SIGTERM (or its spec's stop signal), then SIGKILL after a grace period. Idempotent. */
  async stop(graceMs = 10_000): Promise<void> {
    if (this.running) {
      this.expectingExit = true;
      this.child?.kill(this.spec.stopSignal ?? 'SIGTERM');
      const timer = setTimeout(() => this.child?.kill('SIGKILL'), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    if (!this.log.writableEnded) await new Promise<void>((resolve) => this.log.end(resolve));
  }
}
