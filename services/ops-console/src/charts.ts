// Turns the event stream, routing's queue statistics and consumer lag into the series the
// charts draw. Pure: every method takes the time, so tests drive it with a virtual clock.
import { CHANNEL_NAMES, channelNameOfJson, type ChannelName } from '#libs/contact';
import { DEAD_LETTER_TOPIC, topics } from '#libs/kafka';
import { channelOf } from './filter';
import type { DescribedRecord } from './records';

export interface QueueStat {
  queue: string;
  channel: ChannelName | 'unknown';
  waiting: number;
  serviceLevel: number;
  estimatedWaitMs: number;
  agentsStaffed: number;
  agentsNeeded: number;
}

export interface GroupLag {
  group: string;
  lag: number;
}

export interface Point {
  t: number;
  v: number;
}

export interface ChartSnapshot {
  now: number;
  bucketMs: number;
  contactsPerMinute: Record<ChannelName, Point[]>;
  slaBreachesPerMinute: Point[];
  slaBreachesTotal: number;
  deadLettersPerMinute: Point[];
  deadLettersTotal: number;
  waitingPerQueue: Record<string, Point[]>;
  serviceLevel: { channel: ChannelName; value: number | null; target: number }[];
  agents: { queue: string; needed: number; staffed: number }[];
  /** Per answered conversation: what it was told it would wait, and what it waited. */
  waits: { conversationId: string; estimatedMs: number; actualMs: number; t: number }[];
  lag: GroupLag[];
  queueStatsAt: number | null;
  lagAt: number | null;
}

export interface ChartOptions {
  bucketMs?: number;
  /** How many buckets the charts show. */
  buckets?: number;
  serviceLevelTarget?: number;
  maxWaits?: number;
}

/** Counts per time bucket, only the recent window kept. */
class BucketSeries {
  private readonly counts = new Map<number, number>();
  constructor(
    private readonly bucketMs: number,
    private readonly buckets: number,
  ) {}
  add(t: number, n = 1): void {
    const b = Math.floor(t / this.bucketMs) * this.bucketMs;
    this.counts.set(b, (this.counts.get(b) ?? 0) + n);
  }
  points(now: number): Point[] {
    const last = Math.floor(now / this.bucketMs) * this.bucketMs;
    const out: Point[] = [];
    for (let i = this.buckets - 1; i >= 0; i--) {
      const t = last - i * this.bucketMs;
      out.push({ t, v: this.counts.get(t) ?? 0 });
    }
    for (const t of this.counts.keys()) if (t <= last - this.buckets * this.bucketMs) this.counts.delete(t);
    return out;
  }
}

/** Routing's QueueStats with the channel as its protobuf enum name (CHANNEL_EMAIL...). */
export function toQueueStat(q: {
  queue: string;
  channel: string;
  waiting: number;
  serviceLevel: number;
  estimatedWaitMs: number;
  agentsStaffed: number;
  agentsNeeded: number;
}): QueueStat {
  return {
    queue: q.queue,
    channel: channelNameOfJson(q.channel) ?? 'unknown',
    waiting: q.waiting,
    serviceLevel: q.serviceLevel,
    estimatedWaitMs: q.estimatedWaitMs,
    agentsStaffed: q.agentsStaffed,
    agentsNeeded: q.agentsNeeded,
  };
}

export class ChartAggregator {
  private readonly bucketMs: number;
  private readonly buckets: number;
  private readonly target: number;
  private readonly maxWaits: number;
  private readonly contacts: Record<ChannelName, BucketSeries>;
  private readonly breaches: BucketSeries;
  private readonly deadLetters: BucketSeries;
  private breachesTotal = 0;
  private deadLettersTotal = 0;
  /** The estimate a queued conversation was last given, until it is answered. */
  private readonly estimates = new Map<string, number>();
  /** Conversations that became callbacks: their wait ends when the customer answers, not at Assigned. */
  private readonly callbacks = new Set<string>();
  private readonly waits: ChartSnapshot['waits'] = [];
  private readonly waiting = new Map<string, Point[]>();
  private latestQueues: QueueStat[] = [];
  private queueStatsAt: number | null = null;
  private lag: GroupLag[] = [];
  private lagAt: number | null = null;

  constructor(options: ChartOptions = {}) {
    this.bucketMs = options.bucketMs ?? 60_000;
    this.buckets = options.buckets ?? 30;
    this.target = options.serviceLevelTarget ?? 0.8;
    this.maxWaits = options.maxWaits ?? 50;
    this.contacts = Object.fromEntries(CHANNEL_NAMES.map((c) => [c, new BucketSeries(this.bucketMs, this.buckets)])) as Record<ChannelName, BucketSeries>;
    this.breaches = new BucketSeries(this.bucketMs, this.buckets);
    this.deadLetters = new BucketSeries(this.bucketMs, this.buckets);
  }

  /** Counts one record at the time it was seen (`now`). */
  addRecord(record: DescribedRecord, now: number): void {
    const event = record.event as Record<string, unknown> | undefined;
    if (record.topic === DEAD_LETTER_TOPIC) {
      this.deadLetters.add(now);
      this.deadLettersTotal++;
      return;
    }
    if (!event) return;
    if (record.topic === topics.contactInbound.name) {
      const channel = channelOf(record);
      if (channel) this.contacts[channel].add(now);
    } else if (record.topic === topics.sla.name) {
      if (event.kind === 'SLA_EVENT_KIND_BREACH') {
        this.breaches.add(now);
        this.breachesTotal++;
      }
    } else if (record.topic === topics.conversationEvents.name) {
      const conversationId = typeof event.conversationId === 'string' ? event.conversationId : undefined;
      if (!conversationId) return;
      this.waitStep(conversationId, event, now);
    }
  }

  /**
   * A wait estimate and the real wait it is measured against: Queued's estimate and Assigned's
   * wait; for a callback, the wait promised when asked and the time until the customer answered.
   */
  private waitStep(conversationId: string, event: Record<string, unknown>, now: number): void {
    const queued = event.queued as { estimatedWaitMs?: unknown } | undefined;
    const assigned = event.assigned as { waitedMs?: unknown } | undefined;
    const callback = event.callbackProgress as { outcome?: unknown; promisedWaitMs?: unknown; waitedMs?: unknown } | undefined;
    if (queued && queued.estimatedWaitMs !== undefined) this.estimated(conversationId, Number(queued.estimatedWaitMs));
    else if (callback?.outcome === 'CALLBACK_OUTCOME_REQUESTED' && Number(callback.promisedWaitMs ?? 0) > 0) {
      this.estimated(conversationId, Number(callback.promisedWaitMs));
      this.callbacks.add(conversationId);
    } else if (callback?.outcome === 'CALLBACK_OUTCOME_ANSWERED' && Number(callback.promisedWaitMs ?? 0) > 0) {
      this.callbacks.delete(conversationId);
      this.answered(conversationId, Number(callback.waitedMs ?? 0), now);
    } else if (assigned && !this.callbacks.has(conversationId)) this.answered(conversationId, Number(assigned.waitedMs ?? 0), now);
    else if (event.abandoned) {
      this.estimates.delete(conversationId);
      this.callbacks.delete(conversationId);
    }
  }

  private estimated(conversationId: string, ms: number): void {
    this.estimates.set(conversationId, ms);
    // Conversations that are never answered (abandoned) must not grow these without bound.
    if (this.estimates.size > 10_000) this.estimates.delete(this.estimates.keys().next().value as string);
    if (this.callbacks.size > 10_000) this.callbacks.delete(this.callbacks.values().next().value as string);
  }

  private answered(conversationId: string, actualMs: number, now: number): void {
    const estimated = this.estimates.get(conversationId);
    if (estimated === undefined) return;
    this.estimates.delete(conversationId);
    this.waits.push({ conversationId, estimatedMs: estimated, actualMs, t: now });
    if (this.waits.length > this.maxWaits) this.waits.shift();
  }

  /** Forgets the estimates and waits of the conversations `erased` names (each answered wait is shown with its conversation). */
  forget(erased: (conversationId: string) => boolean): void {
    for (const id of [...this.estimates.keys()]) if (erased(id)) this.estimates.delete(id);
    for (const id of [...this.callbacks]) if (erased(id)) this.callbacks.delete(id);
    const kept = this.waits.filter((w) => !erased(w.conversationId));
    this.waits.splice(0, this.waits.length, ...kept);
  }

  setQueueStats(queues: QueueStat[], now: number): void {
    this.latestQueues = queues;
    this.queueStatsAt = now;
    const horizon = now - this.bucketMs * this.buckets;
    for (const q of queues) {
      const series = this.waiting.get(q.queue) ?? [];
      series.push({ t: now, v: q.waiting });
      while (series.length > 0 && series[0]!.t < horizon) series.shift();
      this.waiting.set(q.queue, series);
    }
    for (const [queue, series] of this.waiting) {
      if (series.length === 0 || series[series.length - 1]!.t < horizon) this.waiting.delete(queue);
    }
  }

  setLag(lag: GroupLag[], now: number): void {
    this.lag = [...lag].sort((a, b) => b.lag - a.lag || a.group.localeCompare(b.group));
    this.lagAt = now;
  }

  snapshot(now: number): ChartSnapshot {
    // Service level per channel: the queues' levels weighted by their staffing, or null with no queue.
    const serviceLevel = CHANNEL_NAMES.map((channel) => {
      const qs = this.latestQueues.filter((q) => q.channel === channel);
      if (qs.length === 0) return { channel, value: null, target: this.target };
      const weight = qs.reduce((s, q) => s + Math.max(1, q.agentsStaffed), 0);
      const value = qs.reduce((s, q) => s + q.serviceLevel * Math.max(1, q.agentsStaffed), 0) / weight;
      return { channel, value, target: this.target };
    });
    return {
      now,
      bucketMs: this.bucketMs,
      contactsPerMinute: Object.fromEntries(CHANNEL_NAMES.map((c) => [c, this.contacts[c].points(now)])) as Record<ChannelName, Point[]>,
      slaBreachesPerMinute: this.breaches.points(now),
      slaBreachesTotal: this.breachesTotal,
      deadLettersPerMinute: this.deadLetters.points(now),
      deadLettersTotal: this.deadLettersTotal,
      waitingPerQueue: Object.fromEntries(this.waiting),
      serviceLevel,
      agents: this.latestQueues.map((q) => ({ queue: q.queue, needed: q.agentsNeeded, staffed: q.agentsStaffed })),
      waits: [...this.waits],
      lag: this.lag,
      queueStatsAt: this.queueStatsAt,
      lagAt: this.lagAt,
    };
  }
}
