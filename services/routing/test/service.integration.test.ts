import { credentials, Metadata, status, type ClientReadableStream, type ServiceError } from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueToken, type Role } from '../../../libs/auth';
import { loadConfig } from '../../../libs/config';
import { topics } from '../../../libs/kafka';
import {
  Channel,
  ContactKind,
  ConversationEvent,
  IdentityKind,
  OutboundKind,
  OutboundMessage,
  Presence,
  RoutingServiceClient,
  Tier,
  type WatchAssignmentsResponse,
} from '../../../libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '../../../libs/service';
import { KAFKA_BROKERS, MONGODB_URI, recordTopics, testContext, uniqueId, waitFor } from '../../../libs/testing';
import { routingConfig, startRouting, type RoutingConfig } from '../src/service';

const SECRET = 'routing-integration-test-secret-0123456789';

function configFor(database: string, group: string): RoutingConfig {
  return loadConfig(routingConfig, {
    KAFKA_BROKERS: KAFKA_BROKERS.join(','),
    MONGODB_URI,
    MONGODB_DATABASE: database,
    GRPC_PORT: '0',
    HTTP_PORT: '0',
    AUTH_JWT_SECRET: SECRET,
    ROUTING_CONSUMER_GROUP: group,
    ROUTING_TICK_MS: '50',
    ROUTING_SESSION_TIMEOUT_MS: '6000',
    ROUTING_HEARTBEAT_MS: '500',
    LOG_LEVEL: 'silent',
  });
}

async function client(port: number, id: string, role: Role) {
  const c = new RoutingServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  const md = new Metadata();
  md.set('authorization', `Bearer ${await issueToken(SECRET, { id, role })}`);
  const call = <Req, Res>(method: (req: Req, md: Metadata, cb: (err: ServiceError | null, res: Res) => void) => unknown, req: Req) =>
    new Promise<Res>((resolve, reject) => method.call(c, req, md, (err, res) => (err ? reject(err) : resolve(res))));
  const updates: WatchAssignmentsResponse[] = [];
  let stream: ClientReadableStream<WatchAssignmentsResponse> | undefined;
  return {
    raw: c,
    md,
    call,
    updates,
    watch() {
      stream = c.watchAssignments({}, md);
      stream.on('data', (u: WatchAssignmentsResponse) => updates.push(u));
      stream.on('error', () => undefined);
    },
    close() {
      stream?.cancel();
      c.close();
    },
  };
}

function contact(conversationId: string, text: string) {
  return {
    contactId: uniqueId('msg'),
    conversationId,
    channel: Channel.CHANNEL_CHAT,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: new Date(),
    sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: uniqueId('visitor'), namespace: '' },
    senderDisplayName: 'Ana',
    newConversation: true,
    conversationReference: 'AB12CD',
    subject: '',
    text,
    quotedText: '',
    attachments: [],
    identityHints: [],
    language: 'en',
    externalId: uniqueId('ext'),
    channelMetadata: {},
  };
}

const decodeEvent = (v: Buffer | null) => ConversationEvent.decode(v!);

/**
 * A new consumer group starts at the end of the topic once its first fetch resolves the
 * offset; a contact written just before that is not seen. Channels retry with the same
 * contact id (de-duplicated by routing), and so does this.
 */
async function deliver(kafka: ServiceKafka, message: ReturnType<typeof contact>, seen: () => boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    await kafka.producer.publish(topics.contactInbound, message.conversationId, message);
    const until = Date.now() + 3000;
    while (Date.now() < until) {
      if (seen()) return;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('routing never took the contact');
}

describe('routing over real Kafka, gRPC and MongoDB', () => {
  let harness: ServiceContext;
  let kafka: ServiceKafka;
  const databases: string[] = [];

  beforeAll(async () => {
    harness = testContext('routing-harness');
    kafka = await connectKafka(harness, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  });
  afterAll(async () => {
    await harness.stop();
    const mongo = new MongoClient(MONGODB_URI);
    await mongo.connect();
    for (const db of databases) await mongo.db(db).dropDatabase();
    await mongo.close();
  });

  it('contact in → offer on the agent stream → accept → reply on cc.outbound.v1 → resolve with survey', async () => {
    const database = uniqueId('routing_it').replace(/-/g, '_');
    databases.push(database);
    const ctx = testContext('routing');
    const recorder = await recordTopics([topics.conversationEvents.name, topics.outbound.name, topics.agentState.name]);
    try {
      const { grpcPort } = await startRouting(ctx, configFor(database, uniqueId('routing')));
      const agentId = uniqueId('agent');
      const supervisor = await client(grpcPort, 'sup', 'supervisor');
      const agent = await client(grpcPort, agentId, 'agent');
      // Auth: no token, wrong role.
      const anonymous = new RoutingServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
      await expect(new Promise((res, rej) => anonymous.listAgents({}, (err, r) => (err ? rej(err) : res(r))))).rejects.toMatchObject({ code: status.UNAUTHENTICATED });
      anonymous.close();
      await expect(agent.call(agent.raw.reassign, { conversationId: 'x', toAgentId: 'y' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

      await supervisor.call(supervisor.raw.registerAgent, { agentId, name: 'Bo', tier: Tier.TIER_FRONT_OFFICE, skills: [{ name: 'general', level: 3 }, { name: 'billing', level: 4 }], languages: ['en'], capacity: [], totalCapacity: 0 });
      await agent.call(agent.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE });
      agent.watch();
      await waitFor(() => agent.updates.some((u) => u.update?.$case === 'agentState'), 10_000, 'the stream to open');

      const conversationId = uniqueId('conv');
      await deliver(kafka, contact(conversationId, 'question about my invoice'), () => agent.updates.some((u) => u.update?.$case === 'offer'));
      const offer = await waitFor(() => agent.updates.find((u) => u.update?.$case === 'offer' && u.update.offer.conversationId === conversationId), 30_000, 'an offer');
      expect(offer.update?.$case === 'offer' && offer.update.offer.reason).toMatchObject({ targetStep: 3, eligibleAgents: 1, rule: 'billing' });

      await agent.call(agent.raw.acceptOffer, { conversationId });
      const reply: { outboundMessageId: string } = await agent.call(agent.raw.reply, { conversationId, text: 'Your invoice is corrected.', subject: '' });
      const out = await recorder.waitFor((r) => r.topic === topics.outbound.name && r.headers.ce_id === reply.outboundMessageId, 20_000);
      const message = OutboundMessage.decode(out.message.value!);
      expect(message).toMatchObject({ conversationId, kind: OutboundKind.OUTBOUND_KIND_REPLY, agentId, text: 'Your invoice is corrected.', conversationReference: 'AB12CD' });
      expect(message.recipient?.kind).toBe(IdentityKind.IDENTITY_KIND_CHAT_VISITOR);

      await agent.call(agent.raw.resolve, { conversationId, disposition: 'invoice corrected' });
      await recorder.waitFor((r) => r.topic === topics.outbound.name && r.message.key?.toString() === conversationId && OutboundMessage.decode(r.message.value!).kind === OutboundKind.OUTBOUND_KIND_SURVEY, 20_000);
      await recorder.waitFor((r) => r.topic === topics.conversationEvents.name && r.message.key?.toString() === conversationId && decodeEvent(r.message.value).step?.$case === 'resolved', 20_000);
      const steps = recorder.records
        .filter((r) => r.topic === topics.conversationEvents.name && r.message.key?.toString() === conversationId)
        .map((r) => decodeEvent(r.message.value).step?.$case);
      expect(steps).toEqual(['queued', 'offered', 'assigned', 'replied', 'resolved']);
      await recorder.waitFor((r) => r.topic === topics.agentState.name && r.message.key?.toString() === agentId, 20_000);

      const stats: { queues: { queue: string }[] } = await supervisor.call(supervisor.raw.getQueueStats, {});
      expect(stats.queues.find((q) => q.queue === 'tier1/billing/chat')).toBeDefined();
      supervisor.close();
      agent.close();
    } finally {
      await recorder.close();
      await ctx.stop();
    }
  });

  it('keeps a queued conversation across a restart and never assigns it twice', async () => {
    const database = uniqueId('routing_it').replace(/-/g, '_');
    databases.push(database);
    const group = uniqueId('routing');
    const recorder = await recordTopics([topics.conversationEvents.name]);
    const conversationId = uniqueId('conv');
    try {
      const first = testContext('routing');
      const one = await startRouting(first, configFor(database, group));
      await deliver(kafka, contact(conversationId, 'hello, anyone there?'), () => one.engine.conversationState(conversationId) !== undefined);
      await recorder.waitFor((r) => r.message.key?.toString() === conversationId && decodeEvent(r.message.value).step?.$case === 'queued', 30_000);
      expect(one.engine.conversationState(conversationId)!.state).toBe('queued');
      await first.stop();

      const second = testContext('routing');
      const two = await startRouting(second, configFor(database, group));
      const service = await client(two.grpcPort, 'chat-service', 'service');
      const estimate = await service.call(service.raw.getWaitEstimate, { conversationId });
      expect(estimate, JSON.stringify(two.engine.conversationState(conversationId))).toMatchObject({ position: 1, queue: 'tier1/general/chat' });
      const agentId = uniqueId('agent');
      const agent = await client(two.grpcPort, agentId, 'agent');
      await agent.call(agent.raw.registerAgent, { agentId, name: 'Cy', tier: Tier.TIER_FRONT_OFFICE, skills: [{ name: 'general', level: 2 }], languages: ['en'], capacity: [], totalCapacity: 0 });
      agent.watch();
      await waitFor(() => agent.updates.length > 0, 10_000, 'the stream to open');
      await agent.call(agent.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE });
      await waitFor(() => agent.updates.find((u) => u.update?.$case === 'offer' && u.update.offer.conversationId === conversationId), 20_000, 'an offer after restart');
      await agent.call(agent.raw.acceptOffer, { conversationId });
      agent.close();
      service.close();
      await second.stop();

      // A third start finds it assigned and offers it to nobody.
      const third = testContext('routing');
      const three = await startRouting(third, configFor(database, group));
      expect(three.engine.conversationState(conversationId)).toMatchObject({ state: 'assigned', agentId });
      await new Promise((r) => setTimeout(r, 300));
      await third.stop();
      const steps = recorder.records.filter((r) => r.message.key?.toString() === conversationId).map((r) => decodeEvent(r.message.value).step?.$case);
      expect(steps.filter((s) => s === 'assigned')).toHaveLength(1);
      expect(steps.filter((s) => s === 'offered')).toHaveLength(1);
    } finally {
      await recorder.close();
    }
  });
});
