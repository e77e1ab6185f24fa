// Capped exponential back-off with jitter, the one schedule for waiting on a dependency, and
// `retry`, the one loop that tries work again on it.
import { isTransient } from './transient';

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

/** Sleeps `ms`; resolves false at once when `signal` is or becomes aborted, true otherwise. */
export function sleep(ms: number, signal?: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

export interface RetryOptions {
  /** Attempts in all, the first included; without it the work is tried until it succeeds or gives up. */
  attempts?: number;
  /** The wait before retry number n: back-off options (default 200 ms doubling to 5 s, 20 % jitter) or a function of n. */
  backoff?: BackoffOptions | ((attempt: number) => number);
  /**
   * Whether a failure of attempt number `attempt` may pass on a later one; false gives up at
   * once, rethrowing it. By default only transient faults (isTransient) are retried.
   */
  retryIf?: (err: unknown, attempt: number) => boolean;
  /** Once aborted, no attempt starts and a wait ends at once: retry rejects with RetryStoppedError. */
  signal?: AbortSignal;
  /** Called before each wait, for logs. */
  onRetry?: (err: unknown, attempt: number, waitMs: number) => void;
}

/** The retries were stopped (the service is stopping); `cause` is the last failure, if any. */
export class RetryStoppedError extends Error {
  constructor(
    readonly attempts: number,
    options?: { cause?: unknown },
  ) {
    super(attempts ? `stopped retrying after ${attempts} attempts` : 'stopped before the first attempt', options);
    this.name = 'RetryStoppedError';
  }
}

/**
 * Runs `work` (given the attempt number, from 1) until it resolves; a failure `retryIf` accepts
 * is tried again after the back-off, up to `attempts`, after which the last failure is thrown.
 */
export async function retry<T>(work: (attempt: number) => Promise<T>, options: RetryOptions = {}): Promise<T> {
  const { attempts = Infinity, retryIf = isTransient, signal, backoff = {} } = options;
  const waitFor = typeof backoff === 'function' ? backoff : (attempt: number) => backoffMs(attempt, backoff);
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw new RetryStoppedError(attempt - 1);
    try {
      return await work(attempt);
    } catch (err) {
      if (attempt >= attempts || !retryIf(err, attempt)) throw err;
      const waitMs = waitFor(attempt);
      options.onRetry?.(err, attempt, waitMs);
      if (!(await sleep(waitMs, signal))) throw new RetryStoppedError(attempt, { cause: err });
    }
  }
}
