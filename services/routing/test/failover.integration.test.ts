// Two routing instances in one consumer group: one routes, the other waits and tails the
// changelog; when the active one loses its Kafka connection abruptly (no hand-over), the standby
// takes the transactional id over, restores from its copy, and every conversation is assigned
// exactly once.
import { status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, Presence, Tier } from '#libs/proto';
import { cuttableSocketFactory, recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { startRouting } from '../src/service';
import { answerOffers, client, configFor, contact, decodeEvent, deliver, ownSkill, publishedBy, useRoutingHarness } from './helpers';

/** The status of routing's /readyz (can take over) and /activez (routes now). */
async function probes(port: number): Promise<{ readyz: number; activez: number }> {
  const get = async (path: string) => (await fetch(`http://127.0.0.1:${port}${path}`)).status;
  return { readyz: await get('/readyz'), activez: await get('/activez') };
}

describe('two routing instances', () => {
  const h = useRoutingHarness();

  it('the standby refuses agents, then takes over queued work when the active instance is cut off', async () => {
    const database = h.database('routing_ha');
    const group = uniqueId('routing');
    const recorder = await recordTopics([topics.conversationEvents.name]);
    const network = cuttableSocketFactory();
    const ctxA = testContext('routing-a');
    const ctxB = testContext('routing-b');
    // The inbound topic is shared with other tests: a skill of its own keeps this test's agents
    // on this test's conversations.
    const { skill, env } = ownSkill();
    const config = configFor(database, group, env);
    const clients: { close(): void }[] = [];
    try {
      const a = await startRouting(ctxA, config, { socketFactory: network.socketFactory });
      expect(a.ownership.isActive).toBe(true);
      const b = await startRouting(ctxB, config);
      expect(b.ownership.isActive).toBe(false);
      // B joining made the group rebalance; A kept the work.
      await new Promise((r) => setTimeout(r, 1500));
      expect(a.ownership.isActive).toBe(true);
      expect(b.ownership.isActive).toBe(false);
      // Both can take over, so both are ready (a rollout can replace either); only A is active.
      expect(await probes(a.httpPort)).toEqual({ readyz: 200, activez: 200 });
      expect(await probes(b.httpPort)).toEqual({ readyz: 200, activez: 503 });

      // The standby answers UNAVAILABLE, which desks treat as "reconnect elsewhere".
      const supervisorOnB = await client(b.grpcPort, 'sup', 'supervisor');
      clients.push(supervisorOnB);
      await expect(supervisorOnB.call(supervisorOnB.raw.listAgents, {})).rejects.toMatchObject({
        code: status.UNAVAILABLE,
        details: expect.stringContaining('not the active routing instance'),
      });

      // Four conversations queue on A; an agent with room for two takes the first and holds an offer of a second.
      const conversations = Array.from({ length: 4 }, () => uniqueId('conv'));
      for (const id of conversations) {
        await deliver(h.kafka, contact(id, `hello, a ${skill} question`), () => a.engine.conversationState(id) !== undefined);
      }
      const first = uniqueId('agent');
      const deskA = await client(a.grpcPort, first, 'agent');
      clients.push(deskA);
      await deskA.call(deskA.raw.registerAgent, {
        agentId: first,
        name: 'Di',
        tier: Tier.TIER_FRONT_OFFICE,
        skills: [{ name: skill, level: 2 }],
        languages: ['en'],
        capacity: [{ channel: Channel.CHANNEL_CHAT, capacity: 2, active: 0 }],
        totalCapacity: 2,
      });
      deskA.watch();
      await waitFor(() => deskA.updates.length > 0, 10_000, 'the stream on A to open');
      const answersA = answerOffers(deskA, (id) => (!conversations.includes(id) ? 'decline' : answersA.accepted.length === 0 ? 'accept' : 'leave'));
      await deskA.call(deskA.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE });
      const taken = (await waitFor(() => answersA.accepted[0], 20_000, 'A to assign one conversation'))!;
      const heldOffer = await waitFor(
        () =>
          deskA.updates.find(
            (u) => u.update?.$case === 'offer' && u.update.offer.conversationId !== taken && conversations.includes(u.update.offer.conversationId),
          ),
        20_000,
        'a second offer on A',
      );
      const held = heldOffer.update?.$case === 'offer' ? heldOffer.update.offer.conversationId : '';
      answersA.stop();

      // A loses Kafka without leaving the group: B gets the partitions once A's session expires.
      network.cut();
      // A cannot commit the accept: the desk is told UNAVAILABLE and B never sees it.
      const lateAccept = deskA.call(deskA.raw.acceptOffer, { conversationId: held }).then(
        () => 'accepted',
        (err: { code?: number }) => err.code,
      );
      const late = uniqueId('conv');
      await h.kafka.producer.publish(topics.contactInbound, late, contact(late, `are you still open? ${skill}`));
      await waitFor(() => !a.ownership.isActive, 10_000, 'A to stand down when its transaction fails');
      await waitFor(() => deskA.streamErrors.some((e) => e.code === status.UNAVAILABLE), 5000, "A to end the agent's stream");
      await expect(deskA.call(deskA.raw.listAgents, {})).rejects.toMatchObject({ code: status.UNAVAILABLE });
      await waitFor(() => b.ownership.isActive, 30_000, 'B to take over');
      await waitFor(() => b.engine.conversationState(late), 20_000, 'B to route the contact written during the outage');
      expect((await probes(b.httpPort)).activez).toBe(200);
      const metricsB = await (await fetch(`http://127.0.0.1:${b.httpPort}/metrics`)).text();
      expect(metricsB).toMatch(/^cc_routing_takeovers_total\{[^}]*\} 1$/m);
      expect(metricsB).toMatch(new RegExp(`^cc_routing_queue_waiting\\{queue="tier1/${skill}/chat",channel="chat"`, 'm'));
      expect(await lateAccept).toBe(status.UNAVAILABLE);
      // The accept never committed, so on B the offer went back to the queue.
      expect(b.engine.conversationState(held)?.state).toMatch(/^(queued|offered)$/);
      // A's network comes back: it is a standby now, and the group keeps the work with B.
      network.restore();
      await new Promise((r) => setTimeout(r, 2000));
      expect([a.ownership.isActive, b.ownership.isActive]).toEqual([false, true]);

      // On B: what A assigned stays assigned; the rest (and the late one) go to a second agent.
      expect(b.engine.conversationState(taken)).toMatchObject({ state: 'assigned', agentId: first });
      const second = uniqueId('agent');
      const deskB = await client(b.grpcPort, second, 'agent');
      clients.push(deskB);
      await deskB.call(deskB.raw.registerAgent, {
        agentId: second,
        name: 'Ed',
        tier: Tier.TIER_FRONT_OFFICE,
        skills: [{ name: skill, level: 2 }],
        languages: ['en'],
        capacity: [{ channel: Channel.CHANNEL_CHAT, capacity: 10, active: 0 }],
        totalCapacity: 10,
      });
      deskB.watch();
      await waitFor(() => deskB.updates.length > 0, 10_000, 'the stream on B to open');
      await deskB.call(deskB.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE });
      const rest = [...conversations.filter((id) => id !== taken), late];
      const answersB = answerOffers(deskB, (id) => (rest.includes(id) ? 'accept' : 'decline'));
      await waitFor(() => rest.every((id) => answersB.accepted.includes(id)), 30_000, 'B to assign the rest');
      answersB.stop();
      // The first agent's desk reconnects to B and finds its conversation there.
      const deskA2 = await client(b.grpcPort, first, 'agent');
      clients.push(deskA2);
      deskA2.watch();
      await waitFor(
        () => deskA2.updates.find((u) => u.update?.$case === 'assigned' && u.update.assigned.conversationId === taken),
        10_000,
        'the held conversation on reconnect',
      );

      // Read the decisions back: every conversation assigned exactly once, to one agent.
      const all = [...conversations, late];
      await waitFor(
        () =>
          all.every((id) =>
            recorder.records.some(
              (r) => r.message.key?.toString() === id && publishedBy(r, ctxA, ctxB) && decodeEvent(r.message.value).step?.$case === 'assigned',
            ),
          ),
        40_000,
        'every assignment on the topic',
      );
      await new Promise((r) => setTimeout(r, 500));
      for (const id of all) {
        const events = recorder.records
          .filter((r) => r.message.key?.toString() === id && publishedBy(r, ctxA, ctxB))
          .map((r) => ({ id: r.headers.ce_id, event: decodeEvent(r.message.value) }));
        const assigned = events.filter((e) => e.event.step?.$case === 'assigned');
        expect(new Set(assigned.map((e) => e.id)).size, `${id}: ${events.map((e) => e.event.step?.$case).join(',')}`).toBe(1);
        const agents = new Set(assigned.map((e) => (e.event.step?.$case === 'assigned' ? e.event.step.assigned.agentId : '')));
        expect([...agents]).toEqual([id === taken ? first : second]);
        expect(events.filter((e) => e.event.step?.$case === 'queued').length).toBeGreaterThanOrEqual(1);
      }
    } finally {
      for (const c of clients) c.close();
      network.restore();
      await ctxA.stop();
      await ctxB.stop();
      await recorder.close();
    }
  }, 240_000);

  it('hands over at once when the active instance stops, and a restarted one becomes the standby', async () => {
    const database = h.database('routing_ha');
    const group = uniqueId('routing');
    const { skill, env } = ownSkill();
    const config = configFor(database, group, env);
    const ctxA = testContext('routing-a');
    const ctxB = testContext('routing-b');
    const ctxC = testContext('routing-c');
    try {
      const a = await startRouting(ctxA, config);
      const b = await startRouting(ctxB, config);
      expect([a.ownership.isActive, b.ownership.isActive]).toEqual([true, false]);
      const conversationId = uniqueId('conv');
      await deliver(h.kafka, contact(conversationId, `hello ${skill}`), () => a.engine.conversationState(conversationId) !== undefined);

      const stopping = Date.now();
      await ctxA.stop();
      await waitFor(() => b.ownership.isActive, 15_000, 'B to take over');
      // A left the group, so no session timeout is waited for.
      expect(Date.now() - stopping).toBeLessThan(6000);
      expect(b.engine.conversationState(conversationId)).toMatchObject({ state: 'queued', queue: `tier1/${skill}/chat` });

      // A new instance joining does not take the work from B.
      const c = await startRouting(ctxC, config);
      await new Promise((r) => setTimeout(r, 1500));
      expect([b.ownership.isActive, c.ownership.isActive]).toEqual([true, false]);
    } finally {
      await ctxA.stop();
      await ctxB.stop();
      await ctxC.stop();
    }
  }, 120_000);
});
