// Routing's store connection goes through a proxy that the test cuts for a few seconds while
// contacts keep arriving: routing waits for the store (nothing dead-lettered, nothing lost),
// becomes ready again by itself, and queues every contact exactly once.
import { describe, expect, it } from 'vitest';
import { DEAD_LETTER_TOPIC, topics } from '../../../libs/kafka';
import { cuttableProxy, recordTopics, storeAddress, testContext, uniqueId, waitFor } from '../../../libs/testing';
import { startRouting } from '../src/service';
import { configFor, contact, decodeEvent, ownSkill, publishedBy, useRoutingHarness } from './helpers';

describe('routing through a store outage', () => {
  const h = useRoutingHarness();

  it('waits for the store, becomes ready again by itself and queues every contact once', async () => {
    const store = storeAddress();
    const proxy = await cuttableProxy(store.host, store.port);
    const recorder = await recordTopics([topics.conversationEvents.name, DEAD_LETTER_TOPIC]);
    const { skill, env } = ownSkill();
    const config = configFor(h.database('routing_outage'), uniqueId('routing'), { ...env, MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}` });
    const ctx = testContext('routing-outage');
    const conversations: string[] = [];
    const send = async () => {
      const id = uniqueId('conv');
      conversations.push(id);
      await h.kafka.producer.publish(topics.contactInbound, id, contact(id, `hello, a ${skill} question`));
    };
    try {
      const routing = await startRouting(ctx, config);
      expect((await ctx.readiness.evaluate()).ready).toBe(true);
      for (let i = 0; i < 10; i++) await send();
      await waitFor(() => conversations.every((id) => routing.engine.conversationState(id)), 20_000, 'the first contacts queued');

      proxy.cut();
      const cutAt = Date.now();
      while (Date.now() - cutAt < 5000) {
        await send();
        await new Promise((r) => setTimeout(r, 100));
      }
      const during = await ctx.readiness.evaluate();
      expect(during.ready).toBe(false);
      proxy.restore();

      const restoredAt = Date.now();
      let report = await ctx.readiness.evaluate();
      await waitFor(async () => (report = await ctx.readiness.evaluate()).ready, 30_000, 'routing ready again').catch((err: Error) => {
        throw new Error(`${err.message}: ${JSON.stringify(report)}`);
      });
      const recoveredMs = Date.now() - restoredAt;
      expect(recoveredMs).toBeLessThan(30_000);
      await waitFor(() => conversations.every((id) => routing.engine.conversationState(id)), 30_000, 'every contact queued');

      // Read the decisions back: one queued event per conversation, none dead-lettered.
      const ours = (id: string) => recorder.records.filter((r) => r.topic === topics.conversationEvents.name && r.message.key?.toString() === id && publishedBy(r, ctx));
      await waitFor(() => conversations.every((id) => ours(id).some((r) => decodeEvent(r.message.value).step?.$case === 'queued')), 30_000, 'every queued event on the topic');
      await new Promise((r) => setTimeout(r, 500));
      for (const id of conversations) {
        const queued = ours(id).filter((r) => decodeEvent(r.message.value).step?.$case === 'queued');
        expect(new Set(queued.map((r) => r.headers.ce_id)).size, id).toBe(1);
      }
      const deadLettered = recorder.records.filter((r) => r.topic === DEAD_LETTER_TOPIC && conversations.includes(r.message.key?.toString() ?? ''));
      expect(deadLettered).toEqual([]);
      expect(conversations.length).toBeGreaterThan(40);
    } finally {
      proxy.restore();
      await ctx.stop();
      await recorder.close();
      await proxy.close();
    }
  }, 180_000);
});
