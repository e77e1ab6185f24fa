// How every service process lives: configuration checked first, parts started in order,
// and on SIGTERM/SIGINT stopped in reverse order (consumers commit, producers flush).
import { hostname } from 'node:os';
import type { Registry } from 'prom-client';
import { ConfigError, loadConfig, tracingConfig } from '../config';
import { createLogger, errorDetails, type Logger } from '../observability/logger';
import { createMetricsRegistry, sharedGauge } from '../observability/metrics';
import { Readiness } from '../observability/http';
import { startTracing } from '../tracing';

export interface ServiceContext {
  name: string;
  /** Unique per process: used in ce_source and client ids. */
  instanceId: string;
  logger: Logger;
  metrics: Registry;
  readiness: Readiness;
  /** Registers something to stop on shutdown; stopped in reverse order of registration. */
  onStop(label: string, stop: () => Promise<void> | void): void;
  /** Stops everything registered, once. */
  stop(): Promise<void>;
}

export function createServiceContext(name: string, options: { instanceId?: string; logLevel?: string } = {}): ServiceContext {
  const logger = createLogger(name, options.logLevel);
  const stops: { label: string; stop: () => Promise<void> | void }[] = [];
  let stopping: Promise<void> | undefined;
  const metrics = createMetricsRegistry(name);
  const readiness = new Readiness();
  // /readyz as a metric, evaluated at each scrape, so an alert sees readiness lost by check.
  sharedGauge<'check'>(metrics, {
    name: 'cc_ready',
    help: 'Readiness checks of this instance (1 passing, 0 failing), as /readyz evaluates them',
    labelNames: ['check'],
    async collect() {
      const report = await readiness.evaluate();
      this.reset();
      for (const [check, ok] of Object.entries(report.checks)) this.set({ check }, ok ? 1 : 0);
    },
  });
  return {
    name,
    instanceId: options.instanceId ?? `${hostname()}-${process.pid}`,
    logger,
    metrics,
    readiness,
    onStop: (label, stop) => stops.push({ label, stop }),
    stop: () =>
      (stopping ??= (async () => {
        for (const { label, stop } of stops.reverse()) {
          try {
            await stop();
          } catch (err) {
            logger.error({ part: label, ...errorDetails(err) }, 'stopping failed');
          }
        }
      })()),
  };
}

/**
 * Runs a service's main: a configuration error is printed plainly and exits 2; any other
 * start-up failure exits 1; a signal stops everything cleanly and exits 0.
 */
export function runService(name: string, main: (ctx: ServiceContext) => Promise<void>): void {
  const ctx = createServiceContext(name, { logLevel: process.env.LOG_LEVEL, instanceId: process.env.INSTANCE_ID });
  const shutdown = (signal: string, code: number) => {
    ctx.logger.info({ signal }, 'stopping');
    const force = setTimeout(() => {
      ctx.logger.error('did not stop within 15 s; exiting');
      process.exit(1);
    }, 15_000);
    force.unref();
    void ctx.stop().then(() => {
      ctx.logger.info('stopped');
      process.exit(code);
    });
  };
  process.once('SIGTERM', () => shutdown('SIGTERM', 0));
  process.once('SIGINT', () => shutdown('SIGINT', 0));
  process.on('unhandledRejection', (err) => {
    ctx.logger.fatal(errorDetails(err), 'unhandled rejection');
    shutdown('unhandledRejection', 1);
  });
  startServiceTracing(ctx)
    .then(() => main(ctx))
    .then(
      () => ctx.logger.info('started'),
      (err: unknown) => {
        if (err instanceof ConfigError) {
          process.stderr.write(`${name}: ${err.message}\n`);
          process.exit(2);
        }
        ctx.logger.fatal(errorDetails(err), 'start-up failed');
        void ctx.stop().finally(() => process.exit(1));
      },
    );
}

/** Tracing first, so that every part the main starts runs with it; stopped last, after their final spans. */
async function startServiceTracing(ctx: ServiceContext): Promise<void> {
  const stop = await startTracing(ctx.name, ctx.instanceId, loadConfig(tracingConfig));
  if (stop) ctx.onStop('tracing', stop);
}
