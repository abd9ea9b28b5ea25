/**
 * What a fixture needs from the test runner: somewhere to hand its clean-up. `node:test`'s test
 * context is one (`startTriage(t)` inside `it`); in a suite's body pass `{ after }` from
 * `node:test` (not from inside a `before` hook: an `after` registered there runs when the hook ends).
 */
export interface TestLifetime {
  after(fn: () => unknown): void;
}

/** Clean-ups run last-in first-out: what was built on something goes before it. */
export class CleanupStack implements TestLifetime {
  private readonly steps: (() => unknown)[] = [];

  after(fn: () => unknown): void {
    this.steps.push(fn);
  }

  async run(): Promise<void> {
    const failures: unknown[] = [];
    for (const step of this.steps.splice(0).reverse()) {
      try {
        await step();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length > 0) throw new AggregateError(failures, 'a clean-up step failed');
  }
}

/**
 * A clean-up stack run once by `t` at its end. Registered before anything is built, so a fixture
 * that fails half-way still has `t` take down what it had built.
 */
export function cleanupStack(t: TestLifetime): CleanupStack {
  const stack = new CleanupStack();
  t.after(() => stack.run());
  return stack;
}
