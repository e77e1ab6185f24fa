// Queue statistics as Prometheus gauges, read from the active engine at each scrape: service
// level, waiting contacts, the oldest wait, wait-estimate error and staffing. A standby exports
// none of them (it has no engine), so sums over instances count the active one only.
import type { Gauge } from 'prom-client';
import { sharedGauge } from '#libs/observability';
import type { ServiceContext } from '#libs/service';
import type { RoutingOwnership } from './active';
import type { QueueStats } from '#libs/proto';

type QueueLabel = 'queue' | 'channel';

/** Statistics older than this are computed again: longer than one scrape takes, far shorter than the time between scrapes. */
const SCRAPE_MS = 1000;

// Queue names are tier/skill/channel (core/waiting.ts); the channel is a label of its own for sums.
const QUEUE_GAUGES: { name: string; help: string; labelNames: QueueLabel[]; value: (q: QueueStats) => number }[] = [
  {
    name: 'cc_routing_queue_service_level',
    help: 'Share of recent conversations of a queue answered within its SLA target (0..1)',
    labelNames: ['queue', 'channel'],
    value: (q) => q.serviceLevel,
  },
  { name: 'cc_routing_queue_waiting', help: 'Conversations waiting in a queue', labelNames: ['queue', 'channel'], value: (q) => q.waiting },
  {
    name: 'cc_routing_queue_oldest_wait_seconds',
    help: 'How long the oldest waiting conversation of a queue has waited',
    labelNames: ['queue', 'channel'],
    value: (q) => q.oldestWaitMs / 1000,
  },
  {
    name: 'cc_routing_wait_estimate_error_seconds',
    help: 'Mean absolute error of the wait estimates given to customers of a queue, over the recent window',
    labelNames: ['queue', 'channel'],
    value: (q) => q.ewtMeanAbsoluteErrorMs / 1000,
  },
  { name: 'cc_routing_queue_agents_staffed', help: 'Agents signed in and staffing a queue', labelNames: ['queue', 'channel'], value: (q) => q.agentsStaffed },
  {
    name: 'cc_routing_queue_agents_needed',
    help: 'Agents Erlang C asks for to reach the target at the current arrival rate',
    labelNames: ['queue', 'channel'],
    value: (q) => q.agentsNeeded,
  },
];

export function startQueueMetrics(ctx: ServiceContext, ownership: RoutingOwnership, serviceLevelTarget: number): void {
  sharedGauge(ctx.metrics, {
    name: 'cc_routing_service_level_target',
    help: 'The service level routing staffs for (share answered within the SLA target, 0..1)',
  }).set(serviceLevelTarget);
  // One scrape collects every gauge in turn: the engine's statistics are computed once for all of them.
  let taken: { at: number; stats: QueueStats[] } | undefined;
  const queueStats = (): QueueStats[] => {
    const now = Date.now();
    if (!taken || now - taken.at > SCRAPE_MS) taken = { at: now, stats: ownership.current().engine.queueStats() };
    return taken.stats;
  };
  for (const { value, ...config } of QUEUE_GAUGES)
    sharedGauge<QueueLabel>(ctx.metrics, {
      ...config,
      collect(this: Gauge<QueueLabel>) {
        this.reset();
        if (!ownership.isActive) return;
        for (const q of queueStats()) this.set({ queue: q.queue, channel: q.queue.split('/')[2] ?? 'unknown' }, value(q));
      },
    });
}
