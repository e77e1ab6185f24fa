// The figures the console asks for on a timer, not from the live tail: routing's queue
// statistics and the consumer groups' lag. Each source's state is shown with the charts, and a
// source that stops answering is logged once, not on every tick.
import type { Admin } from 'kafkajs';
import { errorDetails, type Logger } from '#libs/observability';
import type { ChartAggregator } from './charts';
import { consumerLag } from './kafka-io';
import type { QueueStatsSource } from './routing-stats';

type SourceName = 'queueStats' | 'lag';
type SourceState = 'waiting' | 'ok' | 'unavailable' | 'not configured';

interface PolledSourcesDeps {
  charts: ChartAggregator;
  /** Null when routing's statistics are not configured. */
  queueStats: QueueStatsSource | null;
  admin: Admin;
  queueStatsIntervalMs: number;
  lagIntervalMs: number;
  now: () => number;
  logger: Logger;
}

export class PolledSources {
  readonly status: Record<SourceName, SourceState>;
  private readonly timers: NodeJS.Timeout[] = [];

  constructor(private readonly deps: PolledSourcesDeps) {
    this.status = { queueStats: deps.queueStats ? 'waiting' : 'not configured', lag: 'waiting' };
  }

  start(): void {
    const { charts, queueStats, admin, now } = this.deps;
    if (queueStats) this.poll('queueStats', this.deps.queueStatsIntervalMs, async () => charts.setQueueStats(await queueStats.fetch(), now()));
    this.poll('lag', this.deps.lagIntervalMs, async () => charts.setLag(await consumerLag(admin), now()));
  }

  stop(): void {
    this.timers.forEach(clearInterval);
  }

  /** Runs `run` now and every `intervalMs`, never two at once. */
  private poll(source: SourceName, intervalMs: number, run: () => Promise<void>): void {
    let busy = false;
    const tick = async () => {
      if (busy) return;
      busy = true;
      try {
        await run();
        this.status[source] = 'ok';
      } catch (err) {
        if (this.status[source] !== 'unavailable') this.deps.logger.warn({ source, ...errorDetails(err) }, 'ops console source unavailable');
        this.status[source] = 'unavailable';
      } finally {
        busy = false;
      }
    };
    void tick();
    this.timers.push(setInterval(() => void tick(), intervalMs));
  }
}
