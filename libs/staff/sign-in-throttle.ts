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
import { RateLimiter } from '../rate-limit';

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

export class SignInThrottle {
  private readonly pair: RateLimiter;
  private readonly address: RateLimiter;
  private readonly id: RateLimiter;

  constructor(private readonly limits: SignInLimits) {
    for (const [name, value] of Object.entries(limits)) {
      if (value !== undefined && (!Number.isInteger(value) || value < 1)) throw new SignInLimitError(`${name} must be a whole number above 0, not ${value}`);
    }
    const maxKeys = limits.maxKeys ?? 100_000;
    this.pair = new RateLimiter(limits.perIdAndAddress, limits.windowMs, maxKeys);
    this.address = new RateLimiter(limits.perAddress, limits.windowMs, maxKeys);
    this.id = new RateLimiter(limits.perIdTotal, limits.windowMs, maxKeys);
  }

  /**
   * Whether this attempt may check a password. When allowed, it is counted as a failure until
   * `succeeded` says the password was right.
   */
  attempt(staffId: string, clientAddress: string, now: number): SignInDecision {
    const pairKey = `${staffId}\u0000${clientAddress}`;
    if (this.pair.isOver(pairKey, now)) return { allowed: false, limit: 'id-and-address', retryAfterMs: this.pair.windowLeftMs(pairKey, now) };
    if (this.address.isOver(clientAddress, now)) return { allowed: false, limit: 'address', retryAfterMs: this.address.windowLeftMs(clientAddress, now) };
    if (this.pair.count(pairKey, now) > 0 && this.id.isOver(staffId, now))
      return { allowed: false, limit: 'id', retryAfterMs: this.id.windowLeftMs(staffId, now) };
    this.pair.take(pairKey, now);
    this.address.take(clientAddress, now);
    this.id.take(staffId, now);
    return { allowed: true };
  }

  /** The password was right: the attempt was no failure, and this address starts clean for the id. */
  succeeded(staffId: string, clientAddress: string): void {
    this.pair.reset(`${staffId}\u0000${clientAddress}`);
    this.address.takeBack(clientAddress);
    this.id.takeBack(staffId);
  }
}
