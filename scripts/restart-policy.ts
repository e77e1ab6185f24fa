// When the start command restarts a service that exited on its own, and when it gives up.
// Plain: the clock is passed in, so the policy is tested without processes.

export interface RestartPolicyOptions {
  /** Delay before the first restart; each quick failure after it doubles the delay. */
  initialDelayMs?: number;
  maxDelayMs?: number;
  /** A service that stayed up this long before exiting starts over from the first delay. */
  stableAfterMs?: number;
  /** Give up after this many exits in a row, each before stableAfterMs. */
  maxConsecutiveFailures?: number;
  /** The exit code of a wrong configuration (libs/config): restarting cannot fix it. */
  configErrorCode?: number;
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export type ExitDecision = { action: 'restart'; delayMs: number; restart: number } | { action: 'stop'; reason: string };

export class RestartPolicy {
  private readonly initialDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly stableAfterMs: number;
  private readonly maxConsecutiveFailures: number;
  private readonly configErrorCode: number;
  private startedAt = 0;
  private consecutive = 0;
  private restarts = 0;

  constructor(options: RestartPolicyOptions = {}) {
    this.initialDelayMs = options.initialDelayMs ?? 1000;
    this.maxDelayMs = options.maxDelayMs ?? 30_000;
    this.stableAfterMs = options.stableAfterMs ?? 60_000;
    this.maxConsecutiveFailures = options.maxConsecutiveFailures ?? 10;
    this.configErrorCode = options.configErrorCode ?? 2;
  }

  started(now: number): void {
    this.startedAt = now;
  }

  exited(exit: ServiceExit, now: number): ExitDecision {
    if (exit.signal === null && exit.code === this.configErrorCode) {
      return { action: 'stop', reason: `configuration error (exit code ${exit.code}); fix the configuration and start again` };
    }
    if (now - this.startedAt >= this.stableAfterMs) this.consecutive = 0;
    this.consecutive++;
    if (this.consecutive > this.maxConsecutiveFailures) {
      return { action: 'stop', reason: `exited ${this.consecutive} times in a row, each within ${formatDelay(this.stableAfterMs)} of starting; giving up` };
    }
    this.restarts++;
    const delayMs = Math.min(this.initialDelayMs * 2 ** (this.consecutive - 1), this.maxDelayMs);
    return { action: 'restart', delayMs, restart: this.restarts };
  }
}

/** "2 s", "0.5 s", "30 s". */
export function formatDelay(ms: number): string {
  return `${Math.round(ms / 100) / 10} s`;
}

/** "SIGKILL", "code 1". */
export function describeExit(exit: ServiceExit): string {
  return exit.signal ?? `code ${exit.code}`;
}
