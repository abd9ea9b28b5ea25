export interface Periodic {
  /** Stops the timer and waits for a run in progress. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Runs `task` every `intervalMs` in the background (never two runs at once, and never keeping the
 * process alive); `intervalMs` of 0 or less runs nothing. A failed run goes to `onError` and the
 * next one happens as planned. For sweeps of an outbox, housekeeping and the like.
 */
export function runEvery(
  intervalMs: number,
  task: () => Promise<unknown>,
  onError: (error: unknown) => void,
): Periodic {
  let running: Promise<unknown> | undefined;
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          if (running) return;
          running = task()
            .catch(onError)
            .finally(() => (running = undefined));
        }, intervalMs)
      : undefined;
  timer?.unref();
  return {
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
