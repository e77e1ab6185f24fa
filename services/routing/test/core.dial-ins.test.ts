import { describe, expect, it } from 'vitest';
import { CallbackOutcome, Channel, ContactKind, ContactReceived, IdentityKind, OutboundKind, Presence, Tier } from '#libs/proto';
import { RoutingEngine, type Effect } from '../src/core/engine';
import { policyWith } from '../src/core/policy';

const CALLER = '+33612345678';

/** An engine on a fake clock with a caller and three agents, keeping every effect. */
function setup() {
  const clock = { t: Date.UTC(2026, 0, 5, 10, 0), now: () => clock.t };
  const engine = new RoutingEngine(policyWith({}), clock);
  const log: Effect[] = [];
  const keep = (effects: Effect[]) => (log.push(...effects), effects);
  const contact = (id: string, kind: ContactKind) =>
    keep(
      engine.contactReceived(
        ContactReceived.fromPartial({
          contactId: `${id}-${kind}`,
          conversationId: id,
          channel: Channel.CHANNEL_VOICE,
          kind,
          sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: CALLER },
          channelMetadata: kind === ContactKind.CONTACT_KIND_CALLBACK_REQUEST ? { 'callback-number': CALLER } : {},
          newConversation: kind === ContactKind.CONTACT_KIND_CALL,
        }),
      ),
    );
  const agent = (id: string) => {
    keep(engine.registerAgent({ id, name: id, tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'] }));
    keep(engine.setPresence(id, Presence.PRESENCE_AVAILABLE));
  };
  const offeredTo = (id: string) =>
    log.flatMap((e) => (e.type === 'conversation' && e.event.conversationId === id && e.event.step?.$case === 'offered' ? [e.event.step.offered.agentId] : []));
  const revokedFor = (agentId: string) =>
    log.flatMap((e) => (e.type === 'notify' && e.agentId === agentId && e.update.update?.$case === 'revoked' ? [e.update.update.revoked] : []));
  const outbound = (id: string, kind: OutboundKind) =>
    log.flatMap((e) => (e.type === 'outbound' && e.message.conversationId === id && e.message.kind === kind ? [e.message] : []));
  return { clock, engine, keep, contact, agent, offeredTo, revokedFor, outbound };
}

describe('an agent the voice channel could not dial into the call', () => {
  it('loses the call to another agent, first in the queue; the desk is told why; the agent is not rung for it again', () => {
    const { engine, keep, contact, agent, offeredTo, revokedFor, outbound } = setup();
    agent('ann');
    contact('conv-1', ContactKind.CONTACT_KIND_CALL);
    expect(offeredTo('conv-1')).toEqual(['ann']);
    keep(engine.accept('ann', 'conv-1'));
    expect(outbound('conv-1', OutboundKind.OUTBOUND_KIND_CONNECT_CALL).map((m) => m.agentId)).toEqual(['ann']);

    keep(engine.agentDialInFailed('conv-1', 'ann', '21217'));
    const conv = engine.conversationState('conv-1')!;
    expect(conv.state).toBe('queued');
    expect(conv.unreachableAgents).toEqual(['ann']);
    expect(revokedFor('ann')).toMatchObject([{ conversationId: 'conv-1', reason: { code: 'call.agent_unreachable' } }]);
    expect(revokedFor('ann')[0]!.reason!.text).toBe('ann could not be dialled into the call (21217); back first in the queue for another agent');
    // Ahead of a call that came after it.
    contact('conv-2', ContactKind.CONTACT_KIND_CALL);
    agent('bob');
    expect(offeredTo('conv-1')).toEqual(['ann', 'bob']);
    keep(engine.accept('bob', 'conv-1'));
    expect(outbound('conv-1', OutboundKind.OUTBOUND_KIND_CONNECT_CALL).map((m) => m.agentId)).toEqual(['ann', 'bob']);
    // Ann, free again, is offered the other call but never this one.
    expect(offeredTo('conv-2')).toEqual(['ann']);
    keep(engine.agentDialInFailed('conv-1', 'bob', '21217'));
    keep(engine.decline('ann', 'conv-2'));
    expect(offeredTo('conv-1')).toEqual(['ann', 'bob']);
  });

  it('changes nothing for a late or repeated report (another agent holds the call)', () => {
    const { engine, keep, contact, agent, revokedFor } = setup();
    agent('ann');
    contact('conv-1', ContactKind.CONTACT_KIND_CALL);
    keep(engine.accept('ann', 'conv-1'));
    keep(engine.agentDialInFailed('conv-1', 'bob', '21217'));
    keep(engine.agentDialInFailed('conv-unknown', 'ann', '21217'));
    expect(engine.conversationState('conv-1')!.state).toBe('assigned');
    expect(revokedFor('ann')).toEqual([]);
  });

  it('gives an answered callback to another agent, who joins the call the customer is on (no second call to the customer)', () => {
    const { engine, keep, contact, agent, offeredTo, outbound } = setup();
    agent('ann');
    contact('conv-cb', ContactKind.CONTACT_KIND_CALL);
    // The caller asks for a callback while the call is offered to Ann.
    contact('conv-cb', ContactKind.CONTACT_KIND_CALLBACK_REQUEST);
    keep(engine.accept('ann', 'conv-cb'));
    expect(outbound('conv-cb', OutboundKind.OUTBOUND_KIND_CALLBACK)).toHaveLength(1);
    keep(engine.callbackAttempted('conv-cb', CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, 1));
    keep(engine.agentDialInFailed('conv-cb', 'ann', 'NO_ANSWER'));
    expect(engine.conversationState('conv-cb')!.callback!.state).toBe('connected');
    agent('bob');
    expect(offeredTo('conv-cb')).toEqual(['ann', 'bob']);
    keep(engine.accept('bob', 'conv-cb'));
    expect(outbound('conv-cb', OutboundKind.OUTBOUND_KIND_CALLBACK)).toHaveLength(1);
    expect(outbound('conv-cb', OutboundKind.OUTBOUND_KIND_CONNECT_CALL).map((m) => m.agentId)).toEqual(['bob']);
  });
});
