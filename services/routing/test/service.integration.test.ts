import { credentials, status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import {
  Channel,
  ConversationEvent,
  type GetQueueStatsResponse,
  IdentityKind,
  OutboundKind,
  OutboundMessage,
  Presence,
  RoutingServiceClient,
  Tier,
} from '#libs/proto';
import { recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { startRouting } from '../src/service';
import { client, configFor, contact, decodeEvent, deliver, ownSkill, publishedBy, useRoutingHarness } from './helpers';

describe('routing over real Kafka, gRPC and MongoDB', () => {
  const h = useRoutingHarness();

  it('contact in → offer on the agent stream → accept → reply on cc.outbound.v1 → resolve with survey', async () => {
    const database = h.database('routing_it');
    const ctx = testContext('routing');
    const recorder = await recordTopics([topics.conversationEvents.name, topics.outbound.name, topics.agentState.name]);
    try {
      const { grpcPort } = await startRouting(ctx, configFor(database, uniqueId('routing')));
      const agentId = uniqueId('agent');
      const supervisor = await client(grpcPort, 'sup', 'supervisor');
      const agent = await client(grpcPort, agentId, 'agent');
      // Auth: no token, wrong role.
      const anonymous = new RoutingServiceClient(`127.0.0.1:${grpcPort}`, credentials.createInsecure());
      await expect(new Promise((res, rej) => anonymous.listAgents({}, (err, r) => (err ? rej(err) : res(r))))).rejects.toMatchObject({
        code: status.UNAUTHENTICATED,
      });
      anonymous.close();
      await expect(agent.call(agent.raw.reassign, { conversationId: 'x', toAgentId: 'y' })).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

      await supervisor.call(supervisor.raw.registerAgent, {
        agentId,
        name: 'Bo',
        tier: Tier.TIER_FRONT_OFFICE,
        skills: [
          { name: 'general', level: 3 },
          { name: 'billing', level: 4 },
        ],
        languages: ['en'],
        capacity: [{ channel: Channel.CHANNEL_CHAT, capacity: 50, active: 0 }],
        totalCapacity: 50,
      });
      await agent.call(agent.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE });
      agent.watch();
      await waitFor(() => agent.updates.some((u) => u.update?.$case === 'agentState'), 10_000, 'the stream to open');

      const conversationId = uniqueId('conv');
      await deliver(h.kafka, contact(conversationId, 'question about my invoice'), () =>
        agent.updates.some((u) => u.update?.$case === 'offer' && u.update.offer.conversationId === conversationId),
      );
      const offer = await waitFor(
        () => agent.updates.find((u) => u.update?.$case === 'offer' && u.update.offer.conversationId === conversationId),
        30_000,
        'an offer',
      );
      expect(offer.update?.$case === 'offer' && offer.update.offer.reason).toMatchObject({ targetStep: 3, eligibleAgents: 1, rule: 'billing' });

      await agent.call(agent.raw.acceptOffer, { conversationId });
      const reply: { outboundMessageId: string } = await agent.call(agent.raw.reply, {
        conversationId,
        text: 'Your invoice is corrected.',
        subject: '',
        attachments: [],
      });
      const out = await recorder.waitFor((r) => r.topic === topics.outbound.name && r.headers.ce_id === reply.outboundMessageId, 20_000);
      const message = OutboundMessage.decode(out.message.value!);
      expect(message).toMatchObject({
        conversationId,
        kind: OutboundKind.OUTBOUND_KIND_REPLY,
        agentId,
        text: 'Your invoice is corrected.',
        conversationReference: 'AB12CD',
      });
      expect(message.recipient?.kind).toBe(IdentityKind.IDENTITY_KIND_CHAT_VISITOR);

      await agent.call(agent.raw.resolve, { conversationId, disposition: 'invoice corrected' });
      const survey = await recorder.waitFor(
        (r) =>
          r.topic === topics.outbound.name &&
          r.message.key?.toString() === conversationId &&
          OutboundMessage.decode(r.message.value!).kind === OutboundKind.OUTBOUND_KIND_SURVEY,
        20_000,
      );
      // The channel that takes the answer learns who served the customer and where.
      expect(OutboundMessage.decode(survey.message.value!).channelMetadata).toMatchObject({ 'survey-agent': agentId, 'survey-queue': 'tier1/billing/chat' });
      await recorder.waitFor(
        (r) =>
          r.topic === topics.conversationEvents.name && r.message.key?.toString() === conversationId && decodeEvent(r.message.value).step?.$case === 'resolved',
        20_000,
      );
      const steps = recorder.records
        .filter((r) => r.topic === topics.conversationEvents.name && r.message.key?.toString() === conversationId && publishedBy(r, ctx))
        .map((r) => decodeEvent(r.message.value).step?.$case);
      expect(steps).toEqual(['queued', 'offered', 'assigned', 'replied', 'resolved']);
      await recorder.waitFor((r) => r.topic === topics.agentState.name && r.message.key?.toString() === agentId, 20_000);

      const stats: { queues: { queue: string }[] } = await supervisor.call(supervisor.raw.getQueueStats, {});
      expect(stats.queues.find((q) => q.queue === 'tier1/billing/chat')).toBeDefined();

      // A channel's answer with a low score: the supervisor's queue stats list it to follow up.
      const answeredAt = new Date();
      await h.kafka.producer.publish(
        topics.conversationEvents,
        conversationId,
        ConversationEvent.fromPartial({
          eventId: `chat-survey:${conversationId}`,
          conversationId,
          occurredAt: answeredAt,
          channel: Channel.CHANNEL_CHAT,
          reason: { code: 'chat.survey_answered', text: 'the visitor answered the satisfaction survey in the chat widget' },
          step: { $case: 'surveyAnswered', surveyAnswered: { question: 'How did we do?', score: 2, comment: 'slow', agentId, queue: 'tier1/billing/chat' } },
        }),
      );
      const followUps = await waitFor(
        async () => {
          const now: GetQueueStatsResponse = await supervisor.call(supervisor.raw.getQueueStats, {});
          return now.lowScoreFollowUps.length ? now.lowScoreFollowUps : undefined;
        },
        20_000,
        'the low score to follow up',
      );
      expect(followUps).toEqual([
        { conversationId, channel: Channel.CHANNEL_CHAT, queue: 'tier1/billing/chat', agentId, score: 2, answeredAt, reference: 'AB12CD' },
      ]);
      supervisor.close();
      agent.close();
    } finally {
      await recorder.close();
      await ctx.stop();
    }
  });

  it('takes a conversation out of the queue when its channel says the customer left', async () => {
    const database = h.database('routing_it');
    const ctx = testContext('routing');
    const conversationId = uniqueId('conv');
    const { skill, env } = ownSkill();
    try {
      const routing = await startRouting(ctx, configFor(database, uniqueId('routing'), env));
      await deliver(h.kafka, contact(conversationId, `please call me back ${skill}`), () => routing.engine.conversationState(conversationId) !== undefined);
      expect(routing.engine.conversationState(conversationId)!.state).toBe('queued');
      // As sms-voice reports a caller hanging up in the queue.
      await h.kafka.producer.publish(
        topics.conversationEvents,
        conversationId,
        ConversationEvent.fromPartial({
          eventId: uniqueId('abandoned'),
          conversationId,
          occurredAt: new Date(),
          channel: Channel.CHANNEL_VOICE,
          reason: { code: 'caller.hung_up_in_queue', text: 'the caller hung up while waiting' },
          step: { $case: 'abandoned', abandoned: { waitedMs: 42_000 } },
        }),
      );
      await waitFor(() => routing.engine.conversationState(conversationId)?.state === 'abandoned', 20_000, 'routing to take the conversation out of the queue');
      const service = await client(routing.grpcPort, 'ops-console', 'service');
      const stats = await service.call<object, GetQueueStatsResponse>(service.raw.getQueueStats, {});
      expect(stats.queues.find((q) => q.queue === `tier1/${skill}/chat`)?.waiting ?? 0).toBe(0);
      service.close();
    } finally {
      await ctx.stop();
    }
  });

  it('keeps a queued conversation across a restart and never assigns it twice', async () => {
    const database = h.database('routing_it');
    const group = uniqueId('routing');
    const recorder = await recordTopics([topics.conversationEvents.name]);
    const conversationId = uniqueId('conv');
    const { skill, env } = ownSkill();
    try {
      const first = testContext('routing');
      const one = await startRouting(first, configFor(database, group, env));
      await deliver(h.kafka, contact(conversationId, `hello, anyone there? ${skill}`), () => one.engine.conversationState(conversationId) !== undefined);
      await recorder.waitFor((r) => r.message.key?.toString() === conversationId && decodeEvent(r.message.value).step?.$case === 'queued', 30_000);
      expect(one.engine.conversationState(conversationId)!.state).toBe('queued');
      await first.stop();

      const second = testContext('routing');
      const two = await startRouting(second, configFor(database, group, env));
      const service = await client(two.grpcPort, 'sms-voice', 'service');
      const estimate = await service.call(service.raw.getWaitEstimate, { conversationId });
      expect(estimate, JSON.stringify(two.engine.conversationState(conversationId))).toMatchObject({ position: 1, queue: `tier1/${skill}/chat` });
      const agentId = uniqueId('agent');
      const agent = await client(two.grpcPort, agentId, 'agent');
      await agent.call(agent.raw.registerAgent, {
        agentId,
        name: 'Cy',
        tier: Tier.TIER_FRONT_OFFICE,
        skills: [{ name: skill, level: 2 }],
        languages: ['en'],
        capacity: [],
        totalCapacity: 0,
      });
      agent.watch();
      await waitFor(() => agent.updates.length > 0, 10_000, 'the stream to open');
      await agent.call(agent.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE });
      await waitFor(
        () => agent.updates.find((u) => u.update?.$case === 'offer' && u.update.offer.conversationId === conversationId),
        20_000,
        'an offer after restart',
      );
      await agent.call(agent.raw.acceptOffer, { conversationId });
      agent.close();
      service.close();
      await second.stop();

      // A third start finds it assigned and offers it to nobody.
      const third = testContext('routing');
      const three = await startRouting(third, configFor(database, group, env));
      expect(three.engine.conversationState(conversationId)).toMatchObject({ state: 'assigned', agentId });
      await new Promise((r) => setTimeout(r, 300));
      await third.stop();
      const steps = recorder.records
        .filter((r) => r.message.key?.toString() === conversationId && publishedBy(r, first, second, third))
        .map((r) => decodeEvent(r.message.value).step?.$case);
      expect(steps.filter((s) => s === 'assigned')).toHaveLength(1);
      expect(steps.filter((s) => s === 'offered')).toHaveLength(1);
    } finally {
      await recorder.close();
    }
  });
});
