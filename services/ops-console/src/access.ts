// Who may use the console and how requests are checked: roles, sign-in rate limit, Origin.
import type { Role } from '../../../libs/auth';
import type { ConsoleRole } from './redact';

export function consoleRole(role: Role): ConsoleRole | null {
  return role === 'ops' || role === 'supervisor' ? role : null;
}

/**
 * Failed sign-ins per key (client address, and staff id) in a fixed window: a few typing
 * mistakes pass, guessing passwords does not. Keys are forgotten once their window is over.
 */
export class SignInLimiter {
  private readonly failures = new Map<string, { count: number; windowStart: number }>();

  constructor(
    private readonly maxFailures = 5,
    private readonly windowMs = 15 * 60_000,
  ) {}

  /** Milliseconds until the key may try again, or 0 when it may try now. */
  retryAfterMs(key: string, now: number): number {
    const entry = this.failures.get(key);
    if (!entry) return 0;
    if (now - entry.windowStart >= this.windowMs) {
      this.failures.delete(key);
      return 0;
    }
    return entry.count >= this.maxFailures ? entry.windowStart + this.windowMs - now : 0;
  }

  fail(key: string, now: number): void {
    const entry = this.failures.get(key);
    if (!entry || now - entry.windowStart >= this.windowMs) this.failures.set(key, { count: 1, windowStart: now });
    else entry.count++;
    if (this.failures.size > 100_000) this.failures.delete(this.failures.keys().next().value as string);
  }

  succeed(key: string): void {
    this.failures.delete(key);
  }
}

/**
 * A state-changing request must come from the console's own pages: the Origin header (sent by
 * browsers on every POST) must be the console's origin, the configured one or else this host's.
 */
export function originAllowed(origin: string | undefined, host: string | undefined, configured: string | undefined, secure: boolean): boolean {
  if (!origin) return false;
  if (configured) return origin === configured;
  if (!host) return false;
  return origin === `${secure ? 'https' : 'http'}://${host}`;
}
