// Per-queue measurements and what is derived from them: estimated wait (EWT) per position,
// its accuracy, service level, and the staffing needed (staffing.ts: Erlang C and the backlog).
import { CHANNEL_ENUM, type ChannelName } from '#libs/contact';
import { type QueueStats, Tier } from '#libs/proto';
import type { AgentRoster } from './agents';
import type { RoutingPolicy } from './policy';
import type { ConversationRecord } from './records';
import { Ring } from './rings';
import { agentsNeeded } from './agents-needed';
import type { Waiting } from './waiting';

interface QueueMetrics {
  handleMs: Ring<number>;
  /** Whether each recent conversation met its first-response target. */
  sla: Ring<boolean>;
  arrivals: Ring<number>;
  ewtErrors: Ring<number>;
  actualWaits: Ring<number>;
}

export interface WaitEstimate {
  estimatedWaitMs: number;
  /** True when no handle time was measured yet (or nobody is staffed): a default stood in. */
  fromTarget: boolean;
}

/** Arrivals are counted over at least this long, so one arrival just after a start is not a rate of thousands an hour. */
const MIN_RATE_WINDOW_MS = 5 * 60_000;

export class QueueStatistics {
  private readonly metrics = new Map<string, QueueMetrics>();

  constructor(
    private readonly policy: RoutingPolicy,
    private readonly startedAt: number,
    private readonly agents: AgentRoster,
    private readonly waiting: Waiting,
    private readonly conversations: Map<string, ConversationRecord>,
  ) {}

  arrived(queue: string, now: number): void {
    this.of(queue).arrivals.push(now);
  }

  handled(queue: string, handleMs: number): void {
    this.of(queue).handleMs.push(handleMs);
  }

  /** A conversation was answered after waiting `waitedMs`, estimated at `estimateMs`. */
  answered(queue: string, estimateMs: number, waitedMs: number): void {
    const m = this.of(queue);
    m.ewtErrors.push(Math.abs(estimateMs - waitedMs));
    m.actualWaits.push(waitedMs);
  }

  slaOutcome(queue: string, met: boolean): void {
    this.of(queue).sla.push(met);
  }

  /**
   * Wait for position `position`: with every slot busy, one frees on average every
   * handle time / slots; the p-th in line waits about p of those intervals.
   */
  estimate(queue: string, channel: ChannelName, position: number): WaitEstimate {
    const staffed = this.agents.staffed(queue);
    if (staffed === 0) return { estimatedWaitMs: this.policy.slaTargetMs[channel], fromTarget: true };
    const m = this.of(queue);
    const aht = m.handleMs.length ? m.handleMs.mean() : this.policy.defaultHandleMs[channel];
    const slots = staffed * Math.max(1, Math.min(this.policy.capacityDefaults[channel], this.policy.totalCapacityDefault));
    return { estimatedWaitMs: Math.round((position * aht) / slots), fromTarget: m.handleMs.length === 0 };
  }

  /** Mean absolute EWT error and mean actual wait over the recent window of one queue. */
  accuracy(queue: string): { meanAbsoluteErrorMs: number; meanActualWaitMs: number; samples: number } {
    const m = this.of(queue);
    return { meanAbsoluteErrorMs: m.ewtErrors.mean(), meanActualWaitMs: m.actualWaits.mean(), samples: m.ewtErrors.length };
  }

  /** Every queue that ever had a conversation, by name. */
  queueStats(now: number): QueueStats[] {
    const stats: QueueStats[] = [];
    for (const [name, queue] of this.waiting.queues) {
      const [tierPart, , ch] = name.split('/') as [string, string, ChannelName];
      const m = this.of(name);
      m.arrivals.retain((t) => now - t <= this.policy.arrivalWindowMs);
      const windowMs = Math.min(this.policy.arrivalWindowMs, Math.max(now - this.startedAt, MIN_RATE_WINDOW_MS));
      const aht = m.handleMs.length ? m.handleMs.mean() : this.policy.defaultHandleMs[ch];
      const needed = agentsNeeded({
        arrivalsPerMs: m.arrivals.length / windowMs,
        handleMs: aht,
        targetMs: this.policy.slaTargetMs[ch],
        targetLevel: this.policy.serviceLevelTarget,
        waiting: queue.length,
        perAgent: this.policy.capacityDefaults[ch],
      });
      const oldest = queue.entries.reduce((o, e) => Math.max(o, now - (this.conversations.get(e.id)?.enqueuedAt ?? now)), 0);
      stats.push({
        queue: name,
        channel: CHANNEL_ENUM[ch],
        tier: tierPart === 'tier2' ? Tier.TIER_EXPERT : Tier.TIER_FRONT_OFFICE,
        waiting: queue.length,
        oldestWaitMs: oldest,
        serviceLevel: m.sla.length ? m.sla.count(Boolean) / m.sla.length : 1,
        estimatedWaitMs: this.estimate(name, ch, queue.length + 1).estimatedWaitMs,
        agentsStaffed: this.agents.staffed(name),
        agentsNeeded: needed,
        arrivalsPerMinute: (m.arrivals.length / windowMs) * 60_000,
        averageHandleMs: Math.round(aht),
        ewtMeanAbsoluteErrorMs: Math.round(m.ewtErrors.mean()),
      });
    }
    return stats.sort((a, b) => a.queue.localeCompare(b.queue));
  }

  private of(queue: string): QueueMetrics {
    let m = this.metrics.get(queue);
    if (!m)
      this.metrics.set(queue, (m = { handleMs: new Ring(50), sla: new Ring(), arrivals: new Ring(5000), ewtErrors: new Ring(), actualWaits: new Ring() }));
    return m;
  }
}
