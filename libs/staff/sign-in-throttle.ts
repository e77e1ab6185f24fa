// How many wrong passwords a sign-in form accepts, without letting a stranger lock anyone out.
// Pure: the clock is passed in and nothing is stored outside this object.
//
// Failures are counted in fixed windows under three keys:
//   - one staff id from one client address (the attacker's own guesses at one person),
//   - one client address (guessing many ids from one place),
//   - one staff id from every address together (guessing one person from many places).
// The first two refuse outright when over. The third refuses only addresses that already failed
// for that id in this window: the rightful person, from an address that has not been guessing,
// still gets in with the right password, while a guesser gets one try per address per window.
// Each attempt counts as a failure from the moment it starts (parallel guesses are counted
// before their password check ends) and is taken back when the password was right.

export interface SignInLimits {
  /** Failures allowed for one staff id from one address per window. */
  perIdAndAddress: number;
  /** Failures allowed from one address, whatever the id, per window. */
  perAddress: number;
  /** Failures for one staff id from all addresses, after which only clean addresses may try. */
  perIdTotal: number;
  windowMs: number;
  /** Bound on remembered keys per counter, so a flood of ids cannot grow memory without end. */
  maxKeys?: number;
}

export type SignInDecision = { allowed: true } | { allowed: false; limit: 'id-and-address' | 'address' | 'id'; retryAfterMs: number };

export class SignInLimitError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignInLimitError';
  }
}

class FailureCounts {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    private readonly windowMs: number,
    private readonly maxKeys: number,
  ) {}

  count(key: string, now: number): number {
    const w = this.windows.get(key);
    return w && now - w.start < this.windowMs ? w.count : 0;
  }

  retryAfterMs(key: string, now: number): number {
    const w = this.windows.get(key);
    return w ? Math.max(0, w.start + this.windowMs - now) : 0;
  }

  add(key: string, now: number): void {
    const w = this.windows.get(key);
    if (w && now - w.start < this.windowMs) {
      w.count++;
      return;
    }
    if (this.windows.size >= this.maxKeys) this.evict(now);
    this.windows.set(key, { start: now, count: 1 });
  }

  takeBack(key: string): void {
    const w = this.windows.get(key);
    if (w && w.count > 0) w.count--;
  }

  forget(key: string): void {
    this.windows.delete(key);
  }

  private evict(now: number): void {
    for (const [key, w] of this.windows) if (now - w.start >= this.windowMs) this.windows.delete(key);
    // Still full of live keys: forget the oldest rather than grow without bound.
    if (this.windows.size >= this.maxKeys) this.windows.delete(this.windows.keys().next().value as string);
  }
}

export class SignInThrottle {
  private readonly pair: FailureCounts;
  private readonly address: FailureCounts;
  private readonly id: FailureCounts;

  constructor(private readonly limits: SignInLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new SignInLimitError(`${name} must be a whole number above 0, not ${value}`);
    }
    const maxKeys = limits.maxKeys ?? 100_000;
    this.pair = new FailureCounts(limits.windowMs, maxKeys);
    this.address = new FailureCounts(limits.windowMs, maxKeys);
    this.id = new FailureCounts(limits.windowMs, maxKeys);
  }

  /**
   * Whether this attempt may check a password. When allowed, it is counted as a failure until
   * `succeeded` says the password was right.
   */
  attempt(staffId: string, clientAddress: string, now: number): SignInDecision {
    const pairKey = `${staffId}\u0000${clientAddress}`;
    const pairFailures = this.pair.count(pairKey, now);
    if (pairFailures >= this.limits.perIdAndAddress) return { allowed: false, limit: 'id-and-address', retryAfterMs: this.pair.retryAfterMs(pairKey, now) };
    if (this.address.count(clientAddress, now) >= this.limits.perAddress) return { allowed: false, limit: 'address', retryAfterMs: this.address.retryAfterMs(clientAddress, now) };
    if (pairFailures > 0 && this.id.count(staffId, now) >= this.limits.perIdTotal) return { allowed: false, limit: 'id', retryAfterMs: this.id.retryAfterMs(staffId, now) };
    this.pair.add(pairKey, now);
    this.address.add(clientAddress, now);
    this.id.add(staffId, now);
    return { allowed: true };
  }

  /** The password was right: the attempt was no failure, and this address starts clean for the id. */
  succeeded(staffId: string, clientAddress: string): void {
    this.pair.forget(`${staffId}\u0000${clientAddress}`);
    this.address.takeBack(clientAddress);
    this.id.takeBack(staffId);
  }
}
