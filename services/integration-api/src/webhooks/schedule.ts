// When a delivery that did not succeed is tried again: capped exponential back-off with jitter,
// for a day from its first attempt (or from its replay), then it is failed. No I/O.
import { backoffMs } from '#libs/faults';

export interface RetrySchedule {
  /** The wait after the first failed attempt; each later wait is `factor` times the one before. */
  firstRetryMs: number;
  /** No wait is longer than this. */
  maxWaitMs: number;
  /** How long after the first attempt a delivery is still tried. */
  giveUpAfterMs: number;
}

const RETRY_FACTOR = 3;
/** Share of each wait that is random, so the retries of many deliveries do not arrive in step. */
const RETRY_JITTER = 0.2;

/**
 * When attempt `attemptsMade + 1` is due, after `attemptsMade` failed ones of a delivery first tried
 * at `firstAttemptAt`; undefined when that would be past the day: the delivery has failed.
 */
export function nextAttemptAt(
  schedule: RetrySchedule,
  firstAttemptAt: Date,
  attemptsMade: number,
  now: Date,
  random: () => number = Math.random,
): Date | undefined {
  // Tripling, not libs/faults' doubling: a day is covered in about a dozen attempts. Its jitter is libs/faults'.
  const base = schedule.firstRetryMs * RETRY_FACTOR ** Math.min(attemptsMade - 1, 30);
  const wait = backoffMs(1, { initialMs: Math.min(base, schedule.maxWaitMs), maxMs: schedule.maxWaitMs, jitter: RETRY_JITTER }, random);
  const at = new Date(now.getTime() + wait);
  return at.getTime() - firstAttemptAt.getTime() > schedule.giveUpAfterMs ? undefined : at;
}
