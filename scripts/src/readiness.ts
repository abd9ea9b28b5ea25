/**
 * What `npm start` says about each service's readiness: once in the banner, then a line whenever it
 * changes. A service whose dependency is down (Redis, PostgreSQL, its media workers) keeps running
 * and retrying; the developer is told so in words, and told again when it is ready.
 * The services' `/readyz` answers are described in `contracts/src/rest/readiness.ts`.
 */

/** A service `npm start` watches: its name as the terminal shows it, and its `/readyz`. */
export interface ReadinessTarget {
  name: string;
  url: string;
}

/** What one look at a service's `/readyz` found. */
export type Readiness =
  | { state: 'ready' }
  /** 503: the dependencies it names are down. */
  | { state: 'not-ready'; down: string[] }
  /** No answer at all (not listening, or too slow). */
  | { state: 'silent' };

const dependencyWords: Record<string, string> = {
  redis: 'Redis unreachable',
  database: 'PostgreSQL unreachable',
  mediaWorkers: 'no live mediasoup worker',
};

/** One line for the terminal, e.g. "triage: not ready — Redis unreachable (it will keep retrying)". */
export function describeReadiness(name: string, readiness: Readiness): string {
  switch (readiness.state) {
    case 'ready':
      return `${name}: ready`;
    case 'silent':
      return `${name}: not answering its readiness check (it may be busy or have stopped)`;
    case 'not-ready': {
      const what = readiness.down.map((dependency) => dependencyWords[dependency] ?? `${dependency} down`);
      return `${name}: not ready — ${what.length > 0 ? what.join(', ') : 'a dependency is down'} (it will keep retrying)`;
    }
  }
}

/** Asks a service's `/readyz` once, within `timeoutMs`. */
export async function checkReadiness(url: string, timeoutMs = 2000): Promise<Readiness> {
  try {
    const response = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await response.json().catch(() => ({}))) as { down?: unknown };
    if (response.ok) return { state: 'ready' };
    const down = Array.isArray(body.down) ? body.down.filter((d): d is string => typeof d === 'string') : [];
    return { state: 'not-ready', down };
  } catch {
    return { state: 'silent' };
  }
}

const sameReadiness = (a: Readiness, b: Readiness): boolean =>
  a.state === b.state &&
  (a.state !== 'not-ready' || b.state !== 'not-ready' || a.down.join() === b.down.join());

export interface ReadinessWatch {
  /** The lines for the banner: one per service that is not ready, or one saying all are. */
  bannerLines(): string[];
  /** Stops watching; resolves once a check under way has finished. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Checks every target (for the banner: until all are ready, or `graceMs` has passed), then every `intervalMs`, printing a line for each
 * service whose readiness changed (after `settleChecks` equal answers in a row, so a blip of one
 * check is not news). `check` is `checkReadiness` unless a test gives its own.
 */
export async function watchReadiness(
  targets: ReadinessTarget[],
  options: {
    print: (line: string) => void;
    intervalMs?: number;
    settleChecks?: number;
    /** How long the first look waits for every service to be ready before the banner says otherwise. */
    graceMs?: number;
    check?: (url: string) => Promise<Readiness>;
  },
): Promise<ReadinessWatch> {
  const check = options.check ?? ((url: string) => checkReadiness(url));
  const settleChecks = options.settleChecks ?? 2;
  const reported = new Map<string, Readiness>();
  const pending = new Map<string, { readiness: Readiness; seen: number }>();
  // services just started may still be connecting: the banner says what holds after a short grace
  const graceEnds = Date.now() + (options.graceMs ?? 5000);
  for (;;) {
    const first = await Promise.all(targets.map((target) => check(target.url)));
    for (const [index, readiness] of first.entries()) reported.set(targets[index]!.name, readiness);
    if (first.every((readiness) => readiness.state === 'ready') || Date.now() >= graceEnds) break;
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
  const bannerLines = targets
    .map((target) => ({ target, readiness: reported.get(target.name)! }))
    .filter(({ readiness }) => readiness.state !== 'ready')
    .map(({ target, readiness }) => describeReadiness(target.name, readiness));

  const lookOnce = async () => {
    const answers = await Promise.all(targets.map((target) => check(target.url)));
    for (const [index, readiness] of answers.entries()) {
      const { name } = targets[index]!;
      if (sameReadiness(readiness, reported.get(name)!)) {
        pending.delete(name);
        continue;
      }
      const candidate = pending.get(name);
      const seen = candidate && sameReadiness(candidate.readiness, readiness) ? candidate.seen + 1 : 1;
      if (seen < settleChecks) {
        pending.set(name, { readiness, seen });
        continue;
      }
      pending.delete(name);
      reported.set(name, readiness);
      options.print(describeReadiness(name, readiness));
    }
  };
  let running: Promise<void> | undefined;
  const timer = setInterval(() => {
    running ??= lookOnce().finally(() => (running = undefined));
  }, options.intervalMs ?? 2000);
  timer.unref();
  return {
    bannerLines: () =>
      bannerLines.length > 0
        ? bannerLines
        : [`Every service is ready (${targets.map((target) => target.name).join(', ')}).`],
    async stop() {
      clearInterval(timer);
      await running;
    },
  };
}
