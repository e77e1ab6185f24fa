// Counts attempts per key in a fixed window; used to slow down password guessing at sign-in,
// per client address and per staff id, so neither one address nor one target can be hammered.
export interface LimitDecision {
  allowed: boolean;
  /** When refused: how long until the window opens again. */
  retryAfterMs: number;
}

export class AttemptLimiter {
  private readonly windows = new Map<string, { startedAt: number; count: number }>();

  constructor(
    readonly limit: number,
    readonly windowMs: number,
    private readonly now: () => number = Date.now,
  ) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError('limit must be a whole number above 0');
    if (!(windowMs > 0)) throw new RangeError('windowMs must be above 0');
  }

  /** Counts one attempt for the key and says whether it may go ahead. */
  hit(key: string): LimitDecision {
    const now = this.now();
    this.prune(now);
    let window = this.windows.get(key);
    if (!window || now - window.startedAt >= this.windowMs) {
      window = { startedAt: now, count: 0 };
      this.windows.set(key, window);
    }
    window.count += 1;
    if (window.count <= this.limit) return { allowed: true, retryAfterMs: 0 };
    return { allowed: false, retryAfterMs: window.startedAt + this.windowMs - now };
  }

  /** Forgets the key's attempts (after a successful sign-in for the staff id). */
  reset(key: string): void {
    this.windows.delete(key);
  }

  get size(): number {
    return this.windows.size;
  }

  // Old windows are dropped as new attempts arrive, so the map stays bounded by recent keys.
  private prune(now: number): void {
    if (this.windows.size < 1000) return;
    for (const [key, w] of this.windows) if (now - w.startedAt >= this.windowMs) this.windows.delete(key);
  }
}
