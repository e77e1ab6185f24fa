// The one retry loop, without any dependency: what it tries again, when it gives up, how long it
// waits and how it stops.
import { describe, expect, it } from 'vitest';
import { retry, RetryStoppedError, sleep, TransientError } from '.';

/** Work that fails with the given errors, in turn, then resolves with the attempt number. */
function failing(...errors: Error[]) {
  const seen: number[] = [];
  const work = async (attempt: number) => {
    seen.push(attempt);
    const err = errors[attempt - 1];
    if (err) throw err;
    return attempt;
  };
  return { work, seen };
}

const down = () => new TransientError('store down');

describe('retry', () => {
  it('tries a transient failure again and resolves with what the work returns', async () => {
    const { work, seen } = failing(down(), down());
    const waits: number[] = [];
    expect(await retry(work, { backoff: () => 1, onRetry: (_err, attempt, waitMs) => waits.push(attempt * 100 + waitMs) })).toBe(3);
    expect(seen).toEqual([1, 2, 3]);
    expect(waits).toEqual([101, 201]);
  });

  it('gives up at once on a permanent failure: by default anything isTransient says is not', async () => {
    const bug = new Error('a bug');
    const { work, seen } = failing(bug);
    await expect(retry(work, { backoff: () => 1 })).rejects.toBe(bug);
    expect(seen).toEqual([1]);
  });

  it('throws the last failure once the attempts are used up', async () => {
    const errors = [down(), down(), down()];
    const { work, seen } = failing(...errors);
    await expect(retry(work, { attempts: 3, backoff: () => 1 })).rejects.toBe(errors[2]);
    expect(seen).toEqual([1, 2, 3]);
  });

  it('asks retryIf with the attempt number: a few tries for any failure, no limit for transient ones', async () => {
    const bug = () => new Error('conflict');
    const { work, seen } = failing(bug(), bug(), down(), down(), bug());
    const retryIf = (err: unknown, attempt: number) => attempt < 2 || err instanceof TransientError;
    await expect(retry(work, { retryIf, backoff: () => 1 })).rejects.toThrow('conflict');
    expect(seen).toEqual([1, 2]);
    const later = failing(bug(), down(), down(), down());
    expect(await retry(later.work, { retryIf, backoff: () => 1 })).toBe(5);
  });

  it('waits by the back-off options: doubling, capped', async () => {
    const { work } = failing(down(), down(), down(), down());
    const waits: number[] = [];
    await retry(work, { backoff: { initialMs: 5, maxMs: 12, jitter: 0 }, onRetry: (_e, _a, waitMs) => waits.push(waitMs) });
    expect(waits).toEqual([5, 10, 12, 12]);
  });

  it('starts no attempt once stopped, and ends a wait at once with the last failure as the cause', async () => {
    const stopped = new AbortController();
    stopped.abort();
    const none = failing();
    await expect(retry(none.work, { signal: stopped.signal })).rejects.toBeInstanceOf(RetryStoppedError);
    expect(none.seen).toEqual([]);

    const stopping = new AbortController();
    const last = down();
    const started = Date.now();
    const waiting = retry(failing(last).work, { signal: stopping.signal, backoff: () => 60_000 });
    setTimeout(() => stopping.abort(), 20);
    const err = await waiting.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RetryStoppedError);
    expect((err as RetryStoppedError).attempts).toBe(1);
    expect((err as RetryStoppedError).cause).toBe(last);
    expect(Date.now() - started).toBeLessThan(5_000);
  });
});

describe('sleep', () => {
  it('resolves true after the wait, false at once when aborted', async () => {
    expect(await sleep(5)).toBe(true);
    const stop = new AbortController();
    setTimeout(() => stop.abort(), 10);
    expect(await sleep(60_000, stop.signal)).toBe(false);
  });
});
