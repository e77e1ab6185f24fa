// Outbound webhooks, wired: the stores, the endpoints, and (unless turned off) the consumer that
// records deliveries and the loop that sends them (docs/integration-api.md#webhooks).
import type { Db } from 'mongodb';
import { errorDetails, sharedCounter, sharedGauge } from '#libs/observability';
import type { ServiceContext, ServiceKafka } from '#libs/service';
import type { IntegrationApiConfig } from '../config';
import type { ApiRoute } from '../route-types';
import { DeliveryStore } from './deliveries';
import { DeliveryDispatcher } from './dispatcher';
import { startWebhookIntake } from './intake';
import { webhookRoutes } from './routes';
import { createSender } from './sender';
import { SubscriptionCache, SubscriptionStore } from './subscriptions';

export async function startWebhooks(ctx: ServiceContext, config: IntegrationApiConfig, deps: { db: Db; kafka: ServiceKafka }): Promise<ApiRoute[]> {
  const subscriptions = new SubscriptionStore(deps.db, config.WEBHOOK_MAX_SUBSCRIPTIONS_PER_APPLICATION);
  const cache = new SubscriptionCache(subscriptions);
  const deliveries = new DeliveryStore(deps.db);
  await deliveries.ensureIndexes();
  const sender = createSender({
    timeoutMs: config.WEBHOOK_TIMEOUT_MS,
    allowPrivate: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    userAgent: 'contactcenter-webhooks/1',
  });
  ctx.onStop('webhook connections', () => sender.close());
  const attempts = sharedCounter<'outcome'>(ctx.metrics, {
    name: 'cc_webhook_attempts_total',
    help: 'Webhook delivery attempts, by outcome (delivered, retry, failed)',
    labelNames: ['outcome'],
  });
  const dispatcher = new DeliveryDispatcher({
    store: deliveries,
    subscription: async (id) => cache.get(id) ?? (await subscriptions.subscriptions.findOne({ _id: id })) ?? undefined,
    send: sender.send,
    schedule: { firstRetryMs: config.WEBHOOK_FIRST_RETRY_MS, maxWaitMs: config.WEBHOOK_MAX_RETRY_WAIT_MS, giveUpAfterMs: config.WEBHOOK_RETRY_FOR_MS },
    instanceId: ctx.instanceId,
    perSubscription: config.WEBHOOK_CONCURRENCY_PER_SUBSCRIPTION,
    maxInFlight: config.WEBHOOK_MAX_IN_FLIGHT,
    scanMs: config.WEBHOOK_SCAN_MS,
    // Far longer than an attempt can take: a claim this old was left by an instance that ended.
    leaseMs: 2 * config.WEBHOOK_TIMEOUT_MS + 30_000,
    logger: ctx.logger.child({ component: 'webhooks' }),
    attempted: (outcome) => attempts.inc({ outcome }),
  });
  sharedGauge(ctx.metrics, {
    name: 'cc_webhook_due',
    help: 'Webhook deliveries waiting for an attempt, as this instance knows them',
    collect() {
      this.set(dispatcher.pending);
    },
  });
  if (config.WEBHOOKS_ENABLED) {
    dispatcher.start();
    ctx.onStop('webhook deliveries', () => dispatcher.stop());
    await startWebhookIntake(deps.kafka, config.WEBHOOK_GROUP_ID, { subscriptions: cache, store: deliveries, recorded: (due) => dispatcher.schedule(due) });
    const prune = setInterval(() => {
      deliveries.prune(new Date(Date.now() - config.WEBHOOK_LOG_RETENTION_DAYS * 86_400_000)).catch((err: unknown) => {
        ctx.logger.warn(errorDetails(err), 'webhook log not pruned; trying again in an hour');
      });
    }, 3_600_000);
    ctx.onStop('webhook log pruning', () => clearInterval(prune));
  }
  return webhookRoutes({
    subscriptions,
    cache,
    deliveries,
    replayed: (due) => dispatcher.schedule(due),
    allowPrivateTargets: config.WEBHOOK_ALLOW_PRIVATE_TARGETS,
    rotationOverlapMs: config.WEBHOOK_SECRET_OVERLAP_MS,
  });
}
