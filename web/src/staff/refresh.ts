/**
 * Reloads of a view that live changes ask for, coalesced: any number of asks while a load runs or
 * waits cost one more load, and loads start at least `minGapMs` apart. A busy practice's feed
 * announces a change every second or so, and a reload of the queue is seven requests: reloaded once
 * per change, a dashboard ran into its member of staff's rate limit (300 a minute) and, its reloads
 * refused, went on showing closed requests as open and none of the new ones. A failed load is
 * reported and tried again, later each time (up to `maxRetryMs`), until one succeeds. No DOM.
 */
export interface RefreshOptions {
  minGapMs: number;
  /** The first retry after a failed load; each later one waits twice as long. */
  retryMs: number;
  maxRetryMs: number;
  /** A load failed: what is shown is as of the last one that succeeded. */
  failed(error: unknown): void;
  /** A load succeeded after one or more failed. */
  recovered(): void;
}

export class CoalescedRefresh {
  private running = false;
  private stopped = false;
  private asked = false;
  private notBefore = 0;
  private failures = 0;
  private timer: ReturnType<typeof setTimeout> | undefined;

  constructor(
    private readonly load: () => Promise<void>,
    private readonly options: RefreshOptions,
    private readonly now: () => number = Date.now,
  ) {}

  /** A change was heard: load again, soon. `atOnce`: staff asked for it (a filter, going back). */
  ask(atOnce = false): void {
    this.stopped = false;
    this.asked = true;
    if (atOnce) this.notBefore = 0;
    this.schedule();
  }

  /** No more loads (signed out). */
  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    this.asked = false;
  }

  private schedule(): void {
    if (this.running || this.stopped || !this.asked) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.run(), Math.max(0, this.notBefore - this.now()));
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    this.asked = false;
    this.running = true;
    this.notBefore = this.now() + this.options.minGapMs;
    try {
      await this.load();
      if (this.failures > 0) this.options.recovered();
      this.failures = 0;
    } catch (error) {
      this.failures++;
      const { retryMs, maxRetryMs } = this.options;
      const wait = Math.min(maxRetryMs, retryMs * 2 ** (this.failures - 1));
      this.notBefore = Math.max(this.notBefore, this.now() + wait);
      this.asked = true;
      this.options.failed(error);
    } finally {
      this.running = false;
      this.schedule();
    }
  }
}
