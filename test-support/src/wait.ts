/**
 * The one way tests wait for something that happens on its own time (a queue, a worker, another
 * process): poll a condition until it holds, or fail naming what was awaited.
 */

export interface WaitOptions {
  /** How long to keep trying before failing; 30 s unless given. */
  timeoutMs?: number;
  /** Pause between tries; 50 ms unless given. */
  intervalMs?: number;
}

/** What a check answers while the condition does not hold yet. */
type NotYet = undefined | false;

/**
 * Calls `check` until it answers something other than `undefined` or `false`, and resolves to that
 * answer (so a check can return what it found). Past the timeout it rejects with
 * `timed out after N ms waiting for <what>`; `what` may be a function, read only then, to say what
 * was last seen. An error thrown by `check` is not retried: it rejects at once.
 */
export async function waitFor<T>(
  what: string | (() => string),
  check: () => T | Promise<T>,
  options: WaitOptions = {},
): Promise<Exclude<T, NotYet>> {
  const { timeoutMs = 30_000, intervalMs = 50 } = options;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined && value !== false) return value as Exclude<T, NotYet>;
    if (Date.now() > deadline) {
      throw new Error(
        `timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}
