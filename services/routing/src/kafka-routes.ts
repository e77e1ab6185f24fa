// Routing's Kafka input: inbound contacts to route, channels saying a customer left while
// waiting, how a callback attempt went, and customers' survey answers. Every instance joins the routing group; the single-owner assigner gives all
// partitions to the active one.
import { headerString, InvalidEventError, pinGroupStart, topics } from '#libs/kafka';
import { errorDetails, sharedCounter } from '#libs/observability';
import type { ConversationEvent } from '#libs/proto';
import type { ServiceContext, ServiceKafka } from '#libs/service';
import { singleOwnerAssigner, type RoutingOwnership } from './active';
import type { RoutingConfig } from './config';
import { decideInSpans } from './conversation-traces';
import { contactProblem } from './core/contact-check';
import type { RoutingEngine } from './core/engine';
import type { CustomerLookup } from './customers';

export async function startContactIntake(
  ctx: ServiceContext,
  kafka: ServiceKafka,
  config: RoutingConfig,
  deps: { ownership: RoutingOwnership; lookup: CustomerLookup },
): Promise<void> {
  const { ownership, lookup } = deps;
  const group = config.ROUTING_CONSUMER_GROUP;
  const rejected = sharedCounter(ctx.metrics, {
    name: 'cc_routing_contacts_rejected_total',
    help: 'Inbound contacts routing could not take',
    labelNames: ['reason'],
  });
  const consumer = kafka.consumer({
    groupId: group,
    fromBeginning: false,
    sessionTimeoutMs: config.ROUTING_SESSION_TIMEOUT_MS,
    heartbeatIntervalMs: config.ROUTING_HEARTBEAT_MS,
    partitionAssigners: [singleOwnerAssigner(() => ownership.isActive)],
    // Offsets are committed by the transactions that carry the decisions.
    commitOffsets: false,
  });
  ownership.follow(consumer.kafkaConsumer);
  // A fetched batch is decided at once (in order) and committed with its offset in one
  // transaction. A batch fetched while the state is still loading waits for it; one fetched
  // after ownership was lost is left for the new owner (NotActiveError).
  consumer.onBatch(topics.contactInbound, async (contacts, position) => {
    const { engine, runner } = await ownership.whenActive(2000);
    for (const { value } of contacts) {
      const problem = contactProblem(value);
      if (!problem) continue;
      // The batch is then retried record by record: the contact is counted once, alone.
      if (contacts.length === 1) rejected.inc({ reason: 'invalid' });
      throw new InvalidEventError(problem);
    }
    const customers = await Promise.all(contacts.map(({ value }) => lookup(value)));
    await decideInSpans(contacts, () => runner.run(() => contacts.flatMap(({ value }, i) => engine.contactReceived(value, customers[i])), position));
  });
  // A channel saying the customer left while waiting (a caller hung up in the queue) takes the
  // conversation out of the queue or the open offer; a survey answer with a low score is kept
  // for the supervisor; an agent the voice channel could not dial in loses the call to another. Routing's own events pass by: abandon() does nothing for a conversation
  // no longer waiting.
  consumer.onBatch(
    topics.conversationEvents,
    async (events, position) => {
      const { engine, runner } = await ownership.whenActive(2000);
      const decided = events.filter(
        ({ value }) =>
          ['abandoned', 'surveyAnswered', 'callbackProgress', 'agentDialInFailed'].includes(value.step?.$case ?? '') &&
          engine.conversationState(value.conversationId),
      );
      if (decided.length === 0) runner.passOver(position);
      else await runner.run(() => decided.flatMap(({ value }) => channelEvent(engine, value)), position);
    },
    // Most events on the topic are routing's own (of any routing group): passed by undecoded.
    { ignore: (headers) => headerString(headers, 'ce_source')?.startsWith('contactcenter/routing/') ?? false },
  );
  // Registered after the consumer, so it runs first on stop: routing stops and its last write
  // lands before the group is left and another instance takes over.
  ctx.onStop('routing ownership', () => ownership.stop());
  await pinStartOffsets(ctx, kafka, group);
  await consumer.start();
}

/**
 * Every partition gets a committed start, so an instance taking over a partition that was
 * quiet so far still reads what was written to it while no instance was routing.
 */
async function pinStartOffsets(ctx: ServiceContext, kafka: ServiceKafka, group: string): Promise<void> {
  try {
    const pinned = await pinGroupStart(kafka.kafka, group, topics.contactInbound.name);
    if (pinned.length) ctx.logger.info({ partitions: pinned }, 'routing consumer group start offsets committed');
  } catch (err) {
    ctx.logger.error(
      errorDetails(err),
      'could not commit the consumer group start offsets; a take-over may skip contacts written to a partition never read before',
    );
  }
}

function channelEvent(engine: RoutingEngine, event: ConversationEvent) {
  const step = event.step;
  if (step?.$case === 'callbackProgress') return engine.callbackAttempted(event.conversationId, step.callbackProgress.outcome, step.callbackProgress.attempt);
  if (step?.$case === 'agentDialInFailed') return engine.agentDialInFailed(event.conversationId, step.agentDialInFailed.agentId, step.agentDialInFailed.code);
  if (step?.$case !== 'surveyAnswered') return engine.abandon(event.conversationId);
  return engine.surveyAnswered(event.conversationId, step.surveyAnswered, (event.occurredAt ?? new Date()).getTime());
}
