/** Shortest and longest pause after a transient failure. */
const BASE_MS = 250;
const CAP_MS = 30_000;

/**
 * The pause before the `attempt`-th retry (1 = first): doubling from BASE_MS, capped at
 * CAP_MS, jittered over its upper half so that replicas hit by one outage do not return
 * in step.
 */
export function transientBackoffMs(attempt: number, random: () => number = Math.random): number {
  const ceiling = Math.min(CAP_MS, BASE_MS * 2 ** Math.max(0, attempt - 1));
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/**
 * A consumer's backoff across consecutive transient failures (an outage): each wait is
 * longer, until a success resets it. `interrupt` ends a wait at once (a stop request).
 */
export class Backoff {
  private failures = 0;
  private wake?: () => void;

  /** Consecutive failures since the last success. */
  get attempts(): number {
    return this.failures;
  }

  async wait(): Promise<void> {
    this.failures++;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, transientBackoffMs(this.failures));
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    this.wake = undefined;
  }

  reset(): void {
    this.failures = 0;
  }

  interrupt(): void {
    this.wake?.();
  }
}
