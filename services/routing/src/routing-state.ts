// Where routing's state lives: a changelog topic every instance tails (standbys stay warm), and
// written only in the active instance's transactions. Nothing is served or routed until this
// instance owns the inbound contacts and its state is restored (RoutingOwnership).
import type { ErasureSet } from '#libs/erasure';
import { ensureTopic } from '#libs/kafka';
import type { ServiceContext, ServiceKafka } from '#libs/service';
import { conversationTraceHeaders } from './conversation-traces';
import { RoutingOwnership } from './active';
import { changelogTopic } from './changelog';
import type { RoutingConfig } from './config';
import type { Clock } from './core/engine';
import type { RoutingPolicy } from './core/policy';
import { DecisionLog } from './decision-log';
import { StateReader } from './state-reader';

export async function startRoutingState(
  ctx: ServiceContext,
  kafka: ServiceKafka,
  config: RoutingConfig,
  engine: { policy: RoutingPolicy; clock: Clock; erased?: ErasureSet },
): Promise<RoutingOwnership> {
  const group = config.ROUTING_CONSUMER_GROUP;
  const changelog = changelogTopic(group);
  // One partition: the state is global and has one writer; compacted: the latest value per key is the state.
  await ensureTopic(kafka.kafka, { name: changelog, partitions: 1, replicationFactor: config.KAFKA_REPLICATION_FACTOR, compacted: true });
  const reader = new StateReader(kafka.kafka, changelog, `${group}.state-reader.${ctx.instanceId}`, ctx.logger, config.ROUTING_SESSION_TIMEOUT_MS);
  await reader.start();
  ctx.onStop('routing changelog reader', () => reader.stop());
  const log = new DecisionLog(kafka.kafka, {
    transactionalId: `${group}.active`,
    changelogTopic: changelog,
    groupId: group,
    source: `contactcenter/${ctx.name}/${ctx.instanceId}`,
    logger: ctx.logger,
    traceHeaders: conversationTraceHeaders,
  });
  const ownership = new RoutingOwnership({
    ...engine,
    reader,
    log,
    instanceId: ctx.instanceId,
    deployment: group,
    logger: ctx.logger,
    metrics: ctx.metrics,
    sessionTimeoutMs: config.ROUTING_SESSION_TIMEOUT_MS,
  });
  // Ready means "can take over", so a standby is ready and a rollout can proceed; /activez
  // (service.ts) says which instance routes.
  ctx.readiness.add('can take over', () => ownership.readiness());
  return ownership;
}
