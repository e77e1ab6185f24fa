// Fixed-window counters per key (sender address, client IP, caller id), with the clock passed in.
export class RateLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly limit: number,
    private readonly windowMs: number,
    private readonly maxKeys = 100_000,
  ) {}

  /** Counts one more for the key; false when the key is over its limit in this window. */
  take(key: string, now: number): boolean {
    const current = this.windows.get(key);
    if (!current || now - current.start >= this.windowMs) {
      if (this.windows.size >= this.maxKeys) this.evictExpired(now);
      this.windows.set(key, { start: now, count: 1 });
      return true;
    }
    current.count++;
    return current.count <= this.limit;
  }

  /** True when the key has used up this window's limit; counts nothing. */
  isOver(key: string, now: number): boolean {
    const current = this.windows.get(key);
    return !!current && now - current.start < this.windowMs && current.count >= this.limit;
  }

  /** How long until the key's window opens again (0 when it is not over its limit). */
  retryAfterMs(key: string, now: number): number {
    const current = this.windows.get(key);
    return current && current.count > this.limit ? Math.max(0, current.start + this.windowMs - now) : 0;
  }

  /** How many were counted for the key in its current window. */
  count(key: string, now: number): number {
    const current = this.windows.get(key);
    return current && now - current.start < this.windowMs ? current.count : 0;
  }

  /** How long until the key's current window ends, over its limit or not (0 without one). */
  windowLeftMs(key: string, now: number): number {
    const current = this.windows.get(key);
    return current ? Math.max(0, current.start + this.windowMs - now) : 0;
  }

  /** Takes one count back, e.g. for an attempt that turned out not to be a failure. */
  takeBack(key: string): void {
    const current = this.windows.get(key);
    if (current && current.count > 0) current.count--;
  }

  /** Forgets the key, e.g. after a successful sign-in. */
  reset(key: string): void {
    this.windows.delete(key);
  }

  private evictExpired(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
    // Still full of live keys: forget the oldest rather than grow without bound.
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
  }
}
