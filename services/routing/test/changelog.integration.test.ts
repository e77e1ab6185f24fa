// Routing's changelog against the real broker: a state written through the decision log and read
// back by a fresh reader restores an engine equal to the one that wrote it, and a writer whose
// transactional id was taken by another (a fenced zombie) can never commit again.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, describe, expect, it } from 'vitest';
import { ensureTopic, topics } from '#libs/kafka';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind, Presence, Tier } from '#libs/proto';
import { createLogger } from '#libs/observability';
import { KAFKA_BROKERS, testContext, uniqueId } from '#libs/testing';
import { changeRecords, changelogTopic } from '../src/changelog';
import { RoutingEngine } from '../src/core/engine';
import { DEFAULT_POLICY } from '../src/core/policy';
import { DecisionLog, FencedError } from '../src/decision-log';
import { StateReader } from '../src/state-reader';

const kafka = new Kafka({ clientId: uniqueId('changelog-test'), brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
const created: string[] = [];

afterAll(async () => {
  const admin = kafka.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: created }).catch(() => undefined);
  await admin.disconnect();
});

async function changelogOfOwn(): Promise<{ group: string; topic: string }> {
  const group = uniqueId('routing-changelog');
  const topic = changelogTopic(group);
  await ensureTopic(kafka, { name: topic, partitions: 1, replicationFactor: 1, compacted: true });
  created.push(topic);
  return { group, topic };
}

function decisionLog(group: string, topic: string): DecisionLog {
  return new DecisionLog(kafka, {
    transactionalId: `${group}.active`,
    changelogTopic: topic,
    groupId: group,
    source: 'contactcenter/routing/test',
    logger: createLogger('changelog-test', 'silent'),
  });
}

function contact(i: number): ContactReceived {
  return ContactReceived.fromPartial({
    contactId: `m${i}`,
    conversationId: `c${i}`,
    channel: i % 2 ? Channel.CHANNEL_CHAT : Channel.CHANNEL_EMAIL,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `customer${i % 3}@example.com` },
    text: i % 3 ? 'a question about my invoice' : 'hello',
    subject: `question ${i}`,
    language: 'en',
  });
}

/** Plain data of everything an engine restores, in a stable order (stepSeq only versions the step timer a restore re-arms). */
function stateOf(engine: RoutingEngine) {
  const plain = (v: unknown) => JSON.parse(JSON.stringify(v, (k, x: unknown) => (k === 'stepSeq' ? undefined : x))) as unknown;
  const sorted = <T>(m: Map<string, T>) => [...m.entries()].sort(([a], [b]) => (a < b ? -1 : 1)).map(([, v]) => plain(v));
  const open = new Map([...engine.conversations].filter(([, c]) => c.state !== 'resolved' && c.state !== 'abandoned'));
  return { agents: sorted(engine.agents), conversations: sorted(open), customers: sorted(engine.customers) };
}

describe('the routing changelog', () => {
  it('restores, through a fresh reader, an engine equal to the one that wrote it', async () => {
    const { group, topic } = await changelogOfOwn();
    let now = Date.UTC(2026, 11, 1, 9);
    const clock = { now: () => now };
    const engine = new RoutingEngine(DEFAULT_POLICY, clock);
    const log = decisionLog(group, topic);
    const ctx = testContext('changelog-reader');
    const writerReader = new StateReader(kafka, topic, uniqueId('reader'), ctx.logger, 6000);
    const freshReader = new StateReader(kafka, topic, uniqueId('reader'), ctx.logger, 6000);
    try {
      await writerReader.start();
      await log.open({ instance: 'writer', activation: 1 });
      const commit = () => log.commit({ changelog: changeRecords(engine, engine.takeChanges()), events: [], offsets: [] });
      for (const id of ['ana', 'bo', 'cy']) {
        engine.registerAgent({
          id,
          name: id,
          tier: Tier.TIER_FRONT_OFFICE,
          skills: { billing: 3, general: 2 },
          languages: ['en'],
          capacity: { chat: 1, email: 1 },
          totalCapacity: 2,
        });
        engine.setPresence(id, Presence.PRESENCE_AVAILABLE);
      }
      await commit();
      // Twelve contacts: some assigned (offers accepted), some resolved (deleted), the rest queued.
      for (let i = 0; i < 12; i++) {
        now += 1000;
        for (const e of engine.contactReceived(contact(i))) {
          if (e.type === 'conversation' && e.event.step?.$case === 'offered') engine.accept(e.event.step.offered.agentId, e.event.conversationId);
        }
        if (i % 4 === 0) await commit();
      }
      const assigned = [...engine.conversations.values()].filter((c) => c.state === 'assigned');
      for (const c of assigned.slice(0, 2)) engine.resolve(c.agentId, c.id, 'answered');
      // Open offers go back to the queue on a restore by design: accept those the resolutions made.
      for (const c of [...engine.conversations.values()]) if (c.state === 'offered') engine.accept(c.agentId, c.id);
      engine.setPresence('cy', Presence.PRESENCE_AWAY);
      await commit();
      expect([...engine.conversations.values()].map((c) => c.state)).toEqual(expect.arrayContaining(['resolved', 'assigned', 'queued']));
      const before = stateOf(engine);

      await freshReader.start();
      await log.open({ instance: 'writer', activation: 2 });
      await freshReader.caughtUp({ instance: 'writer', activation: 2 });
      const restored = new RoutingEngine(DEFAULT_POLICY, clock);
      restored.restore(freshReader.mirror.snapshot());
      expect(stateOf(restored)).toEqual(before);
      // The resolved ones were deleted from the changelog, not kept as records.
      expect(freshReader.mirror.size).toBe(before.agents.length + before.conversations.length + before.customers.length);
      // The reader that followed the writer all along holds the same.
      await writerReader.caughtUp({ instance: 'writer', activation: 2 });
      const warm = new RoutingEngine(DEFAULT_POLICY, clock);
      warm.restore(writerReader.mirror.snapshot());
      expect(stateOf(warm)).toEqual(before);
    } finally {
      await log.close();
      await writerReader.stop();
      await freshReader.stop();
      await ctx.stop();
    }
  });

  it('refuses every commit of a writer whose transactional id another instance took (a fenced zombie)', async () => {
    const { group, topic } = await changelogOfOwn();
    const zombie = decisionLog(group, topic);
    const successor = decisionLog(group, topic);
    const ctx = testContext('changelog-reader');
    const reader = new StateReader(kafka, topic, uniqueId('reader'), ctx.logger, 6000);
    const conversationId = uniqueId('conv');
    const late = {
      topic: topics.conversationEvents as never,
      key: conversationId,
      message: ConversationEvent.fromPartial({ eventId: uniqueId('event'), conversationId, occurredAt: new Date() }),
      id: uniqueId('event'),
    };
    try {
      await reader.start();
      await zombie.open({ instance: 'zombie', activation: 1 });
      await successor.open({ instance: 'successor', activation: 1 });
      // The zombie does not know; its next transaction (state, an event, offsets) is refused whole.
      const refused = zombie.commit({
        changelog: [{ key: 'agent/zed', value: JSON.stringify({ id: 'zed' }) }],
        events: [late],
        offsets: [{ topic: topics.contactInbound.name, partition: 0, offset: '1' }],
      });
      await expect(refused).rejects.toBeInstanceOf(FencedError);
      await expect(zombie.commit({ changelog: [{ key: 'agent/zed', value: JSON.stringify({ id: 'zed' }) }], events: [], offsets: [] })).rejects.toThrow();
      await successor.commit({ changelog: [{ key: 'agent/ana', value: JSON.stringify({ id: 'ana' }) }], events: [], offsets: [] });
      await successor.open({ instance: 'successor', activation: 2 });
      await reader.caughtUp({ instance: 'successor', activation: 2 });
      const keys = reader.mirror.snapshot().agents.map((a) => a.id);
      expect(keys).toEqual(['ana']);
      // The group's offsets were never moved by the refused transaction.
      const admin = kafka.admin();
      await admin.connect();
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topics.contactInbound.name] });
      await admin.disconnect();
      expect(committed!.partitions.every((p) => p.offset === '-1')).toBe(true);
    } finally {
      await zombie.close();
      await successor.close();
      await reader.stop();
      await ctx.stop();
    }
  });
});
