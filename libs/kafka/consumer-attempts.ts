// The dead-letter decision: how long a handler is retried on a record before the record is
// given up. A transient failure (a dependency down) waits without limit while the consumer says
// it is not ready; any other failure gets a few attempts; an invalid record none.
import { backoffMs, isTransient, sleep, sleepUnless, type BackoffOptions } from '../faults';
import type { Logger } from '../observability/logger';
import { errorDetails } from '../observability/logger';
import type { ConsumerHealth, WaitingRecord } from './consumer-health';
import type { BatchControl, RecordPlace } from './consumer-types';
import { InvalidEventError, RetryLaterError } from './errors';

/** What happens instead when a record is given up (usually: it is dead-lettered). */
export type GiveUp<T> = (reason: 'invalid' | 'handler-failed', err: unknown, attempts?: number) => Promise<T>;

interface AttemptsDeps {
  health: ConsumerHealth;
  log: Logger;
  maxAttempts: number;
  backoffMs: number;
  transientBackoff?: BackoffOptions;
}

export class HandlerAttempts {
  constructor(private readonly deps: AttemptsDeps) {}

  /**
   * Runs `attempt` until it succeeds ('handled') or gives up: an invalid record, or one still
   * failing after the attempts, goes to `giveUp` (which says what happened instead). While the
   * failure is transient it waits without limit; the stop of the service ends the wait with
   * RetryLaterError, leaving the record for the next fetch.
   */
  async run<T>(where: RecordPlace, attempt: () => Promise<void> | void, control: BatchControl, giveUp: GiveUp<T>): Promise<'handled' | T> {
    const { health, log, maxAttempts } = this.deps;
    let failures = 0;
    let waiting: WaitingRecord | undefined;
    const ended = health.handling(where);
    try {
      for (let attempts = 1; ; attempts++) {
        try {
          await attempt();
          if (waiting) health.done(waiting, true);
          return 'handled';
        } catch (err) {
          if (err instanceof RetryLaterError) throw err;
          if (err instanceof InvalidEventError) return await giveUp('invalid', err);
          if (isTransient(err)) {
            waiting = health.wait(waiting, where, err);
            if (!(await sleepUnless(this.transientWait(waiting.attempts), control.keepGoing)))
              throw new RetryLaterError(`stopped while waiting for a dependency: ${waiting.error}`);
            continue;
          }
          failures += 1;
          if (failures >= maxAttempts) return await giveUp('handler-failed', err, attempts);
          log.warn({ ...where, attempt: attempts, ...errorDetails(err) }, 'handler failed; retrying');
          await sleep(Math.min(this.deps.backoffMs * 2 ** (failures - 1), 10_000));
          await control.heartbeat();
        }
      }
    } finally {
      ended();
      if (waiting) health.done(waiting, false);
    }
  }

  private transientWait(attempts: number): number {
    return backoffMs(attempts, this.deps.transientBackoff ?? { initialMs: this.deps.backoffMs, maxMs: 5000, jitter: 0.2 });
  }
}
