// Erasure in routing over the real broker: an erasure record on cc.erasure.v1 takes the erased
// conversation out of the active state at once, its changelog record is deleted (a tombstone),
// and a new instance restoring from the changelog does not bring it back; another customer's
// conversation stays.
import { describe, expect, it } from 'vitest';
import { publishErasure, recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { changelogTopic } from '../src/changelog';
import { startRouting } from '../src/service';
import { configFor, contact, deliver, ownSkill, useRoutingHarness } from './helpers';

describe('erasure in routing', () => {
  const h = useRoutingHarness();

  it('drops an erased conversation, writes its tombstone, and a restore from the changelog keeps it out', async () => {
    const database = h.database('routing_erasure');
    const group = uniqueId('routing');
    const { skill, env } = ownSkill();
    const erased = uniqueId('conv');
    const kept = uniqueId('conv');
    const first = testContext('routing');
    const one = await startRouting(first, configFor(database, group, env));
    const recorder = await recordTopics([changelogTopic(group)]);
    try {
      for (const id of [erased, kept])
        await deliver(h.kafka, contact(id, `my account number is 12345 ${skill}`), () => one.engine.conversationState(id) !== undefined);

      await publishErasure(h.kafka.producer, 'conversation', erased);
      await waitFor(() => one.engine.conversationState(erased) === undefined, 20_000, 'the erased conversation to leave routing');
      expect(one.engine.conversationState(kept)?.state).toBe('queued');
      await recorder.waitFor((r) => r.message.key?.toString() === `conversation/${erased}` && r.message.value === null, 20_000);
      await first.stop();

      const second = testContext('routing');
      const two = await startRouting(second, configFor(database, group, env));
      expect(two.engine.conversationState(erased)).toBeUndefined();
      expect(two.engine.conversationState(kept)?.state).toBe('queued');
      await second.stop();
    } finally {
      await first.stop();
      await recorder.close();
    }
  });
});
