// Wiring: configuration → Kafka (changelog, transactions), customer-record → the routing core →
// gRPC and ops HTTP. Routing keeps no state in the store: Kafka is its system of record.
import type { ISocketFactory } from 'kafkajs';
import { z } from 'zod';
import { commonConfig, ConfigError, durationMs, port, positiveInt } from '../../../libs/config';
import { createTokenVerifier, optionalSigningKeyConfig, serviceTokenSource, trustedKeysConfig } from '../../../libs/auth';
import { faultKind, isTransient } from '../../../libs/faults';
import { ensureTopic, headerString, InvalidEventError, pinGroupStart, topics } from '../../../libs/kafka';
import { errorDetails, sharedCounter } from '../../../libs/observability';
import { connectKafka, serveOps, startGrpcServer, type ServiceContext } from '../../../libs/service';
import { RoutingOwnership, singleOwnerAssigner } from './active';
import { changelogTopic } from './changelog';
import { contactProblem } from './core/contact-check';
import type { Clock, RoutingEngine } from './core/engine';
import { DEFAULT_POLICY, type ClassificationRule, type RoutingPolicy } from './core/policy';
import { customerRecordLookup, noCustomerLookup, type CustomerLookup } from './customers';
import { DecisionLog } from './decision-log';
import { registerRoutingGrpc } from './grpc';
import { NotActiveError, type EngineRunner } from './runner';
import { StateReader } from './state-reader';

const rulesJson = z
  .string()
  .optional()
  .transform((s, ctx) => {
    if (!s) return undefined;
    try {
      const parsed = JSON.parse(s) as unknown;
      if (!Array.isArray(parsed)) throw new Error('must be a JSON array of rules');
      return parsed as ClassificationRule[];
    } catch (err) {
      ctx.addIssue({ code: 'custom', message: `must be a JSON array of rules: ${err instanceof Error ? err.message : String(err)}` });
      return z.NEVER;
    }
  });

export const routingConfig = {
  ...commonConfig,
  ...trustedKeysConfig,
  /** Routing's own key, to sign its calls to customer-record; required with CUSTOMER_RECORD_GRPC_ADDR. */
  ...optionalSigningKeyConfig('routing'),
  GRPC_PORT: port(50052),
  HTTP_PORT: port(8105),
  CUSTOMER_RECORD_GRPC_ADDR: z.string().regex(/^[^\s:]+:\d{1,5}$/, 'must be host:port').optional(),
  /**
   * Consumer group of the routing instances; it also names their changelog topic
   * (cc.<group>.state.v1) and their transactional id (<group>.active).
   */
  ROUTING_CONSUMER_GROUP: z.string().regex(/^[A-Za-z0-9_.-]{1,100}$/, 'must be letters, digits, _, . or -').default('routing'),
  ROUTING_OFFER_TIMEOUT_MS: durationMs(DEFAULT_POLICY.offerTimeoutMs),
  ROUTING_MAX_MISSED_OFFERS: positiveInt(DEFAULT_POLICY.maxMissedOffers),
  ROUTING_WRAP_UP_MS: durationMs(DEFAULT_POLICY.wrapUpMs),
  ROUTING_COMPLEXITY_THRESHOLD: z.coerce.number().int().min(0).max(10).default(DEFAULT_POLICY.complexityThreshold),
  ROUTING_LAST_AGENT_DAYS: positiveInt(14),
  ROUTING_TICK_MS: positiveInt(200),
  /** How long a customer-record look-up may take before the contact is routed without flags. */
  ROUTING_CUSTOMER_LOOKUP_TIMEOUT_MS: z.coerce.number().int().min(10).max(10_000).default(250),
  /** Group session timeout: how soon a standby takes over from an instance that died. */
  ROUTING_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6000).max(300_000).default(6000),
  ROUTING_HEARTBEAT_MS: z.coerce.number().int().min(100).max(10_000).default(1000),
  /** Classification rules as a JSON array; the built-in examples when unset. */
  ROUTING_RULES_JSON: rulesJson,
};

export type RoutingConfig = z.output<z.ZodObject<typeof routingConfig>>;

export interface RoutingOverrides {
  clock?: Clock;
  policy?: Partial<RoutingPolicy>;
  customerLookup?: CustomerLookup;
  /** Fault-injection tests cut this instance's Kafka network with it. */
  socketFactory?: ISocketFactory;
}

export interface RunningRouting {
  grpcPort: number;
  httpPort: number;
  ownership: RoutingOwnership;
  /** The active state; throws NotActiveError on a standby. */
  readonly engine: RoutingEngine;
  readonly runner: EngineRunner;
}

export async function startRouting(ctx: ServiceContext, config: RoutingConfig, overrides: RoutingOverrides = {}): Promise<RunningRouting> {
  const policy: RoutingPolicy = {
    ...DEFAULT_POLICY,
    offerTimeoutMs: config.ROUTING_OFFER_TIMEOUT_MS,
    maxMissedOffers: config.ROUTING_MAX_MISSED_OFFERS,
    wrapUpMs: config.ROUTING_WRAP_UP_MS,
    complexityThreshold: config.ROUTING_COMPLEXITY_THRESHOLD,
    lastAgentWindowMs: config.ROUTING_LAST_AGENT_DAYS * 86_400_000,
    ...(config.ROUTING_RULES_JSON ? { rules: config.ROUTING_RULES_JSON } : {}),
    ...overrides.policy,
  };
  const verify = createTokenVerifier({ keys: config.AUTH_PUBLIC_KEYS_DIR, audience: 'routing' });
  const clock = overrides.clock ?? { now: () => Date.now() };
  if (config.ROUTING_HEARTBEAT_MS * 3 > config.ROUTING_SESSION_TIMEOUT_MS) {
    throw new ConfigError([{ variable: 'ROUTING_HEARTBEAT_MS', message: `must be at most a third of ROUTING_SESSION_TIMEOUT_MS (${config.ROUTING_SESSION_TIMEOUT_MS})` }]);
  }
  const kafka = await connectKafka(ctx, config, { socketFactory: overrides.socketFactory });
  const group = config.ROUTING_CONSUMER_GROUP;
  const changelog = changelogTopic(group);
  // One partition: the state is global and has one writer; compacted: the latest value per key is the state.
  await ensureTopic(kafka.kafka, { name: changelog, partitions: 1, replicationFactor: config.KAFKA_REPLICATION_FACTOR, compacted: true });
  const reader = new StateReader(kafka.kafka, changelog, `${group}.state-reader.${ctx.instanceId}`, ctx.logger);
  await reader.start();
  ctx.onStop('routing changelog reader', () => reader.stop());
  const log = new DecisionLog(kafka.kafka, { transactionalId: `${group}.active`, changelogTopic: changelog, groupId: group, source: `contactcenter/${ctx.name}/${ctx.instanceId}`, logger: ctx.logger });
  // Nothing is served or routed until this instance owns the inbound contacts and its state is restored.
  const ownership = new RoutingOwnership({ policy, clock, reader, log, instanceId: ctx.instanceId, logger: ctx.logger, metrics: ctx.metrics, sessionTimeoutMs: config.ROUTING_SESSION_TIMEOUT_MS });
  ctx.readiness.add('active routing instance', () => ownership.readiness());

  let lookup = overrides.customerLookup ?? noCustomerLookup;
  if (!overrides.customerLookup && config.CUSTOMER_RECORD_GRPC_ADDR) {
    if (!config.AUTH_PRIVATE_KEY_FILE) throw new ConfigError([{ variable: 'AUTH_PRIVATE_KEY_FILE', message: "must be set when CUSTOMER_RECORD_GRPC_ADDR is: routing signs its calls to customer-record with its own key" }]);
    const client = customerRecordLookup(config.CUSTOMER_RECORD_GRPC_ADDR, serviceTokenSource(config.AUTH_PRIVATE_KEY_FILE, 'customer-record'), ctx.logger, config.ROUTING_CUSTOMER_LOOKUP_TIMEOUT_MS);
    lookup = client.lookup;
    ctx.onStop('customer-record client', () => client.close());
  }

  const grpc = await startGrpcServer(ctx, { host: config.BIND_HOST, port: config.GRPC_PORT }, ['contactcenter.v1.RoutingService'], (server) =>
    registerRoutingGrpc(server, { current: () => ownership.current(), verify, logger: ctx.logger }),
  );

  const rejected = sharedCounter(ctx.metrics, { name: 'cc_routing_contacts_rejected_total', help: 'Inbound contacts routing could not take', labelNames: ['reason'] });
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
    await runner.run(() => contacts.flatMap(({ value }, i) => engine.contactReceived(value, customers[i])), position);
  });
  // A channel saying the customer left while waiting (a caller hung up in the queue) takes the
  // conversation out of the queue or the open offer. Routing's own events pass by: abandon()
  // does nothing for a conversation no longer waiting.
  consumer.onBatch(
    topics.conversationEvents,
    async (events, position) => {
      const { engine, runner } = await ownership.whenActive(2000);
      const abandoned = events.filter(({ value }) => value.step?.$case === 'abandoned' && engine.conversationState(value.conversationId));
      if (abandoned.length === 0) runner.passOver(position);
      else await runner.run(() => abandoned.flatMap(({ value }) => engine.abandon(value.conversationId)), position);
    },
    // Most events on the topic are routing's own (of any routing group): passed by undecoded.
    { ignore: (headers) => headerString(headers, 'ce_source')?.startsWith('contactcenter/routing/') ?? false },
  );
  // Registered after the consumer, so it runs first on stop: routing stops and its last write
  // lands before the group is left and another instance takes over.
  ctx.onStop('routing ownership', () => ownership.stop());
  // Every partition gets a committed start, so an instance taking over a partition that was
  // quiet so far still reads what was written to it while no instance was routing.
  try {
    const pinned = await pinGroupStart(kafka.kafka, group, topics.contactInbound.name);
    if (pinned.length) ctx.logger.info({ partitions: pinned }, 'routing consumer group start offsets committed');
  } catch (err) {
    ctx.logger.error(errorDetails(err), 'could not commit the consumer group start offsets; a take-over may skip contacts written to a partition never read before');
  }
  await consumer.start();
  await ownership.settled();

  let lastTickFault = 0;
  const ticker = setInterval(() => {
    ownership.check();
    if (!ownership.isActive) return;
    const { engine, runner } = ownership.current();
    runner.run(() => engine.tick()).catch((err: unknown) => {
      if (err instanceof NotActiveError) return;
      // A broker outage fails every tick: it is said once every 10 s, not five times a second.
      if (isTransient(err) && Date.now() - lastTickFault < 10_000) return;
      lastTickFault = Date.now();
      ctx.logger.error({ ...errorDetails(err), fault: faultKind(err) }, 'routing timers failed; retrying on the next tick');
    });
  }, config.ROUTING_TICK_MS);
  ctx.onStop('routing timers', () => clearInterval(ticker));

  const httpPort = await serveOps(ctx, config.HTTP_PORT, config.BIND_HOST);
  ctx.logger.info({ active: ownership.isActive }, ownership.isActive ? 'routing is the active instance' : 'routing is a standby');
  return {
    grpcPort: grpc.port,
    httpPort,
    ownership,
    get engine() {
      return ownership.current().engine;
    },
    get runner() {
      return ownership.current().runner;
    },
  };
}
