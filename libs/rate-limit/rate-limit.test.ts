import { describe, expect, it } from 'vitest';
import { RateLimiter } from './index';

describe('RateLimiter', () => {
  it('allows the limit per window, then refuses until the window passes', () => {
    const limiter = new RateLimiter(2, 60_000);
    expect([limiter.take('a', 0), limiter.take('a', 1), limiter.take('a', 2), limiter.take('b', 3)]).toEqual([true, true, false, true]);
    expect(limiter.take('a', 60_001)).toBe(true);
  });

  it('stays bounded in keys', () => {
    const limiter = new RateLimiter(1, 60_000, 10);
    for (let i = 0; i < 100; i++) limiter.take(`k${i}`, i);
    expect((limiter as unknown as { windows: Map<string, unknown> }).windows.size).toBeLessThanOrEqual(10);
  });

  it('says how long a key over its limit must wait, and forgets a key on reset', () => {
    const limiter = new RateLimiter(1, 60_000);
    expect(limiter.take('ana', 1_000)).toBe(true);
    expect(limiter.retryAfterMs('ana', 1_000)).toBe(0);
    expect(limiter.take('ana', 11_000)).toBe(false);
    expect(limiter.retryAfterMs('ana', 11_000)).toBe(50_000);
    limiter.reset('ana');
    expect(limiter.take('ana', 12_000)).toBe(true);
  });

  it('counts a key in its window, takes a count back, and says when the window ends', () => {
    const limiter = new RateLimiter(2, 60_000);
    limiter.take('ana', 1_000);
    limiter.take('ana', 2_000);
    expect([limiter.count('ana', 2_000), limiter.isOver('ana', 2_000), limiter.windowLeftMs('ana', 2_000)]).toEqual([2, true, 59_000]);
    limiter.takeBack('ana');
    expect([limiter.count('ana', 3_000), limiter.isOver('ana', 3_000)]).toEqual([1, false]);
    expect([limiter.count('ana', 61_000), limiter.windowLeftMs('ana', 61_000), limiter.count('bo', 0)]).toEqual([0, 0, 0]);
  });
});
