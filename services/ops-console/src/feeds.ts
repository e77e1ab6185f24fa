// What the console reads to show: the live tail into the charts and the feed, the reports' fold
// from the beginning of the topics, the dead-letter topic, routing's statistics and the consumer
// lag on a timer, and customer-record's conversation search.
import { Kafka, logLevel } from 'kafkajs';
import type { Logger } from '#libs/observability';
import type { ServiceContext } from '#libs/service';
import { ChartAggregator } from './charts';
import type { OpsConsoleConfig } from './config';
import { DeadLetterStore, startLiveTail } from './kafka-io';
import { ErasureSet } from '#libs/erasure';
import { forgetInLiveViews, ofErased } from './live-erasure';
import { LiveFeed } from './live-feed';
import { customerRecordSearch } from './conversation-search';
import { routingQueueStats, type QueueStatsSource } from './routing-stats';
import { startReportFeed } from './report-feed';
import { PolledSources } from './sources';

/** Routing's statistics: the override of a test, else routing over gRPC when the console has a key to sign with. */
function queueStatsSource(config: OpsConsoleConfig, override: QueueStatsSource | null | undefined): QueueStatsSource | null {
  if (override !== undefined) return override;
  return config.AUTH_PRIVATE_KEY_FILE ? routingQueueStats(config.ROUTING_GRPC_ADDR, config.AUTH_PRIVATE_KEY_FILE) : null;
}

export async function startFeeds(
  ctx: ServiceContext,
  config: OpsConsoleConfig,
  logger: Logger,
  now: () => number,
  queueStatsOverride?: QueueStatsSource | null,
) {
  // A plain client for the console's own throw-away consumers (no logs per rebalance).
  const tailKafka = new Kafka({ clientId: `${ctx.name}-${ctx.instanceId}-tail`, brokers: config.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  const charts = new ChartAggregator({ serviceLevelTarget: config.OPS_SERVICE_LEVEL_TARGET });
  const feed = new LiveFeed();
  const deadLetters = new DeadLetterStore(tailKafka);
  await deadLetters.start();
  ctx.onStop('dead-letter reader', () => deadLetters.stop());
  // Every erasure known, once the report feed has read them (none without ERASURE_KEY).
  let erased = new ErasureSet('');
  const live = await startLiveTail(tailKafka, logger, (record) => {
    if (!ofErased(erased, record)) charts.addRecord(record, feed.add(record, now()).receivedAt);
  });
  ctx.onStop('live tail', () => live.stop());
  const reportFeed = await startReportFeed(tailKafka, logger, config.ERASURE_KEY, (known) => {
    erased = known;
    const events = forgetInLiveViews(known, feed, charts);
    if (events) logger.info({ events }, 'erased customers’ events dropped from the live views');
  });
  ctx.onStop('report feed', () => reportFeed.stop());

  const queueStats = queueStatsSource(config, queueStatsOverride);
  if (queueStats) ctx.onStop('routing client', () => queueStats.close());
  else logger.warn('AUTH_PRIVATE_KEY_FILE is not set: queue statistics from routing are not shown');
  const admin = tailKafka.admin();
  await admin.connect();
  ctx.onStop('kafka admin', () => admin.disconnect());
  const sources = new PolledSources({
    charts,
    queueStats,
    admin,
    queueStatsIntervalMs: config.OPS_QUEUE_STATS_INTERVAL_MS,
    lagIntervalMs: config.OPS_LAG_INTERVAL_MS,
    now,
    logger,
  });
  sources.start();
  ctx.onStop('pollers', () => sources.stop());
  const conversations = config.AUTH_PRIVATE_KEY_FILE ? customerRecordSearch(config.CUSTOMER_RECORD_GRPC_ADDR, config.AUTH_PRIVATE_KEY_FILE) : null;
  if (conversations) ctx.onStop('customer-record client', () => conversations.close());
  const erasedConversation = (id: string) => erased.erasedAtOf('conversation', id) !== undefined;
  return { tailKafka, charts, feed, deadLetters, sources, conversations, reports: reportFeed.fold, erasedConversation };
}
