// How long each step of the start took, logged once it is ready: a restart slower than its
// dependencies' return shows which step it waited on (loading, store, Kafka, consumer group).
import type { Logger } from '#libs/observability';

export class StartSteps {
  private readonly steps: Record<string, number> = {};
  private readonly began = Date.now();

  constructor(private readonly log: Logger) {
    // Loading and compiling the modules, before the service's own code ran.
    this.steps.load = Math.round(process.uptime() * 1000);
  }

  /** Runs one step and records its milliseconds under `name`. */
  async time<T>(name: string, step: () => Promise<T>): Promise<T> {
    const t0 = Date.now();
    try {
      return await step();
    } finally {
      this.steps[name] = Date.now() - t0;
    }
  }

  done(what: string): void {
    this.log.info({ stepsMs: this.steps, totalMs: Date.now() - this.began + this.steps.load! }, what);
  }
}
