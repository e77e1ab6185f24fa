// What a consumer shows of itself while it works: records held back waiting on a dependency
// (readiness fails, the waiting gauge counts them) and how far behind each partition is.
import type { Gauge, Registry } from 'prom-client';
import { sharedGauge } from '../observability/metrics';
import type { Logger } from '../observability/logger';
import type { ReadinessState } from '../observability/http';

/** One record whose handler waits for a dependency to come back. */
export interface WaitingRecord {
  topic: string;
  partition: number;
  offset: string;
  since: number;
  attempts: number;
  error: string;
  lastLog: number;
}

/** How often a record still waiting is logged again (the first failure is logged at once). */
const LOG_EVERY_MS = 30_000;

/**
 * A handler that has neither returned nor failed for this long holds its partition without a
 * word: readiness says so, since the lag alone would not say why.
 */
export const STALLED_AFTER_MS = 30_000;

/** A handler running this long holds its partition long enough for the lag to need refreshing. */
const HELD_AFTER_MS = 5_000;

/** One handler call in progress. */
interface Running {
  topic: string;
  partition: number;
  offset: string;
  since: number;
  warned: boolean;
}

export class ConsumerHealth {
  private readonly waiting = new Set<WaitingRecord>();
  private readonly running = new Set<Running>();
  private readonly waitingGauge?: Gauge<'group' | 'topic'>;
  private readonly lagGauge?: Gauge<'group' | 'topic' | 'partition'>;
  private readonly lagLabels = new Set<string>();
  /** The next offset to handle per partition, as of its last batch. */
  private readonly positions = new Map<string, { topic: string; partition: number; next: string }>();

  constructor(
    private readonly groupId: string,
    private readonly log: Logger,
    metrics?: Registry,
  ) {
    if (!metrics) return;
    this.waitingGauge = sharedGauge(metrics, {
      name: 'cc_kafka_consumer_waiting',
      help: 'Records whose handler is waiting for a dependency (store, broker, peer service) to come back, by consumer group and topic',
      labelNames: ['group', 'topic'],
    });
    this.lagGauge = sharedGauge(metrics, {
      name: 'cc_kafka_consumer_lag',
      help: 'Records on a partition not yet handled by the group (high watermark minus the next offset to handle), as of its last fetch, or of the last refresh while a record waits',
      labelNames: ['group', 'topic', 'partition'],
    });
  }

  /** Records a failed attempt on a record that waits; logs the first and then every 30 s. */
  wait(current: WaitingRecord | undefined, where: { topic: string; partition: number; offset: string }, err: unknown): WaitingRecord {
    const now = Date.now();
    const error = err instanceof Error ? err.message : String(err);
    let record = current;
    if (!record) {
      record = { ...where, since: now, attempts: 0, error, lastLog: 0 };
      this.waiting.add(record);
      this.waitingGauge?.inc({ group: this.groupId, topic: where.topic });
    }
    record.attempts += 1;
    record.error = error;
    if (now - record.lastLog >= LOG_EVERY_MS) {
      record.lastLog = now;
      const waitedMs = now - record.since;
      this.log.warn(
        { ...where, attempts: record.attempts, waitedMs, error, errorName: err instanceof Error ? err.name : undefined },
        'handler waits for a dependency; retrying until it is back',
      );
    }
    return record;
  }

  /** The record is done (handled, or left for later): it no longer holds readiness back. */
  done(record: WaitingRecord, handled: boolean): void {
    if (!this.waiting.delete(record)) return;
    this.waitingGauge?.dec({ group: this.groupId, topic: record.topic });
    const waitedMs = Date.now() - record.since;
    if (handled)
      this.log.info(
        { topic: record.topic, partition: record.partition, offset: record.offset, attempts: record.attempts, waitedMs },
        'dependency back; record handled',
      );
  }

  /** A handler call starts; the returned function ends it. */
  handling(where: { topic: string; partition: number; offset: string }): () => void {
    const call: Running = { ...where, since: Date.now(), warned: false };
    this.running.add(call);
    return () => this.running.delete(call);
  }

  /** The oldest handler call that has run past STALLED_AFTER_MS, logged once. */
  private stalled(now: number): Running | undefined {
    let oldest: Running | undefined;
    for (const r of this.running) if (now - r.since >= STALLED_AFTER_MS && (!oldest || r.since < oldest.since)) oldest = r;
    if (oldest && !oldest.warned) {
      oldest.warned = true;
      this.log.error(
        { topic: oldest.topic, partition: oldest.partition, offset: oldest.offset, runningMs: now - oldest.since },
        'handler has not returned; its partition is held',
      );
    }
    return oldest;
  }

  lag(topic: string, partition: number, highWatermark: string, nextOffset: string): void {
    if (!this.lagGauge) return;
    this.positions.set(`${topic}/${partition}`, { topic, partition, next: nextOffset });
    const labels = { group: this.groupId, topic, partition: String(partition) };
    this.lagLabels.add(JSON.stringify(labels));
    this.lagGauge.set(labels, Math.max(0, Number(highWatermark) - Number(nextOffset)));
  }

  /** After a rebalance the partitions may be another member's: forget their lag here. */
  forgetLag(): void {
    for (const labels of this.lagLabels) this.lagGauge?.remove(JSON.parse(labels) as Record<string, string>);
    this.lagLabels.clear();
    this.positions.clear();
  }

  /**
   * Topics with a partition held by a record that waits or a handler that runs long: no batch
   * comes for them meanwhile, so their lag must be refreshed from the broker's offsets.
   */
  heldTopics(now = Date.now()): string[] {
    const held = new Set<string>();
    for (const w of this.waiting) held.add(w.topic);
    for (const r of this.running) if (now - r.since >= HELD_AFTER_MS) held.add(r.topic);
    return [...held];
  }

  /** Sets the lag of the topic's partitions this member handles from the broker's high watermarks. */
  refreshLag(topic: string, highWatermarks: { partition: number; high: string }[]): void {
    for (const { partition, high } of highWatermarks) {
      const position = this.positions.get(`${topic}/${partition}`);
      if (position) this.lag(topic, partition, high, position.next);
    }
  }

  /**
   * Not ready while not running, while any record waits on a dependency (with the oldest's
   * reason), or while a handler has not returned for STALLED_AFTER_MS.
   */
  readiness(running: boolean): ReadinessState {
    if (!running) return { ready: false, detail: 'not consuming (starting or stopped)' };
    let oldest: WaitingRecord | undefined;
    for (const w of this.waiting) if (!oldest || w.since < oldest.since) oldest = w;
    const now = Date.now();
    const stalled = oldest ? undefined : this.stalled(now);
    if (stalled)
      return {
        ready: false,
        detail: `a handler on ${stalled.topic}/${stalled.partition} at offset ${stalled.offset} has not returned for ${Math.round((now - stalled.since) / 1000)} s`,
      };
    if (!oldest) return true;
    const seconds = Math.round((Date.now() - oldest.since) / 1000);
    return {
      ready: false,
      detail: `${this.waiting.size} record(s) waiting for a dependency for ${seconds} s (${oldest.topic}/${oldest.partition} at offset ${oldest.offset}, ${oldest.attempts} attempts): ${oldest.error}`,
    };
  }
}

/**
 * Heartbeats on a timer while a batch is being handled (kafkajs throttles them to its interval).
 * A failed heartbeat (the group is rebalancing) is kept and rethrown once the batch ends, so
 * kafkajs rejoins; meanwhile `failed` tells waiting records to stop.
 */
export function keepBeating(heartbeat: () => Promise<void>, everyMs: number): { readonly failed: boolean; stop(): void; rethrow(): void } {
  let failure: { error: unknown } | undefined;
  let busy = false;
  const timer = setInterval(() => {
    if (busy || failure) return;
    busy = true;
    heartbeat().then(
      () => (busy = false),
      (error: unknown) => {
        busy = false;
        failure = { error };
      },
    );
  }, everyMs);
  return {
    get failed() {
      return failure !== undefined;
    },
    stop: () => clearInterval(timer),
    rethrow() {
      if (failure) throw failure.error;
    },
  };
}
