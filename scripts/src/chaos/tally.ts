/**
 * What the users of the chaos run saw: every answer the load got, by kind ("submissions", "closes"…)
 * and outcome ("ok", "503 'unavailable'", "no answer (ECONNREFUSED)"), with its time, so each
 * fault's window can be counted and its recovery timed.
 */
export interface Seen {
  at: number;
  kind: string;
  outcome: string;
}

export class Tally {
  private readonly seen: Seen[] = [];

  record(kind: string, outcome: string): void {
    this.seen.push({ at: Date.now(), kind, outcome });
  }

  /** Per kind, the count of each outcome between two times; "ok" first. */
  between(from: number, to: number): Map<string, Map<string, number>> {
    const counts = new Map<string, Map<string, number>>();
    for (const { at, kind, outcome } of this.seen) {
      if (at < from || at > to) continue;
      const outcomes = counts.get(kind) ?? new Map<string, number>();
      outcomes.set(outcome, (outcomes.get(outcome) ?? 0) + 1);
      counts.set(kind, outcomes);
    }
    return counts;
  }

  /** When `kind` first succeeded at or after `from`. */
  firstOk(kind: string, from: number): number | undefined {
    return this.seen.find((event) => event.kind === kind && event.at >= from && event.outcome === 'ok')?.at;
  }

  /** When `kind` last failed between two times. */
  lastFailure(kind: string, from: number, to: number): number | undefined {
    return this.seen.findLast(
      (event) => event.kind === kind && event.at >= from && event.at <= to && event.outcome !== 'ok',
    )?.at;
  }
}

/** "412 ok, 37 × 503 'unavailable'" */
export function describeOutcomes(outcomes: Map<string, number>): string {
  const ok = outcomes.get('ok') ?? 0;
  const failures = [...outcomes.entries()]
    .filter(([outcome]) => outcome !== 'ok')
    .sort((a, b) => b[1] - a[1])
    .map(([outcome, n]) => `${n} × ${outcome}`);
  return [`${ok} ok`, ...failures].join(', ');
}

/** How an HTTP answer (or its absence) reads in the tally. */
export async function outcomeOf(response: Response | Error): Promise<string> {
  if (response instanceof Error) {
    const cause = (response as Error & { cause?: { code?: string } }).cause;
    if (response.name === 'TimeoutError') return 'no answer in 5 s';
    return `no answer (${cause?.code ?? response.name})`;
  }
  if (response.ok) return 'ok';
  const body = (await response.json().catch(() => undefined)) as { code?: string } | undefined;
  return `${response.status} '${body?.code ?? '?'}'`;
}
