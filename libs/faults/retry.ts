// Capped exponential back-off with jitter, the one schedule for waiting on a dependency.

export interface BackoffOptions {
  /** First wait (attempt 1). */
  initialMs?: number;
  /** No wait is longer than this. */
  maxMs?: number;
  /** Share of each wait that is random (0 to 1), so many waiters do not retry in step. */
  jitter?: number;
}

/** The wait before retry number `attempt` (1, 2, …): initialMs doubling up to maxMs, with jitter. */
export function backoffMs(attempt: number, options: BackoffOptions = {}, random: () => number = Math.random): number {
  const { initialMs = 200, maxMs = 5000, jitter = 0.2 } = options;
  const base = Math.min(maxMs, initialMs * 2 ** Math.min(Math.max(attempt - 1, 0), 30));
  return Math.round(base * (1 - jitter + jitter * random()));
}

/**
 * Sleeps `ms` in slices of at most `sliceMs`, calling `tick` after each (a heartbeat), and
 * returns early with false as soon as `keepGoing` says so (the service is stopping).
 */
export async function sleepUnless(ms: number, keepGoing: () => boolean, tick?: () => Promise<void> | void, sliceMs = 500): Promise<boolean> {
  const until = Date.now() + ms;
  for (;;) {
    if (!keepGoing()) return false;
    const left = until - Date.now();
    if (left <= 0) return true;
    await new Promise((resolve) => setTimeout(resolve, Math.min(left, sliceMs)));
    if (tick) await tick();
  }
}
