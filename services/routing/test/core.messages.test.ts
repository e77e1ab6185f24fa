import { describe, expect, it } from 'vitest';
import { AgentState, Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind, OutboundMessage, Presence, SlaEvent, Tier } from '#libs/proto';
import { RoutingEngine, type Effect } from '../src/core/engine';
import { DEFAULT_POLICY } from '../src/core/policy';

// The engine writes its messages out instead of calling fromPartial; a field added to the
// schema must show up here, so each message must be exactly what fromPartial makes of it.
describe('messages the engine builds', () => {
  it('are complete messages, as fromPartial would build them', () => {
    let now = Date.UTC(2026, 0, 5, 9);
    const engine = new RoutingEngine({ ...DEFAULT_POLICY, wrapUpMs: 5000 }, { now: () => now });
    const effects: Effect[] = [];
    const run = (e: Effect[] | { effects: Effect[] }) => effects.push(...(Array.isArray(e) ? e : e.effects));
    run(engine.registerAgent({ id: 'a1', name: 'Ana', tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'] }));
    run(engine.setPresence('a1', Presence.PRESENCE_AVAILABLE));
    for (const channel of [Channel.CHANNEL_CHAT, Channel.CHANNEL_EMAIL]) {
      const id = `c${channel}`;
      run(
        engine.contactReceived(
          ContactReceived.fromPartial({
            contactId: `m${channel}`,
            conversationId: id,
            channel,
            kind: ContactKind.CONTACT_KIND_MESSAGE,
            sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `x${channel}@example.com` },
            text: 'hello',
            channelMetadata: { thread: 't1' },
          }),
        ),
      );
      run(engine.accept('a1', id));
      run(engine.reply('a1', id, 'Hi!'));
      run(engine.resolve('a1', id, 'done'));
      now += 10_000;
      run(engine.tick());
    }
    run(engine.contactReceived(ContactReceived.fromPartial({ contactId: 'm9', conversationId: 'c9', channel: Channel.CHANNEL_VOICE, text: 'hello' })));
    now += 60_000;
    run(engine.tick());
    const kinds = new Set<string>();
    for (const e of effects) {
      kinds.add(e.type);
      if (e.type === 'conversation') {
        const { step, ...rest } = e.event;
        expect({ ...ConversationEvent.fromPartial(rest), step }).toStrictEqual(e.event);
      } else if (e.type === 'outbound') expect(OutboundMessage.fromPartial(e.message)).toStrictEqual(e.message);
      else if (e.type === 'sla') expect(SlaEvent.fromPartial(e.event)).toStrictEqual(e.event);
      else if (e.type === 'agent_state') expect(AgentState.fromPartial(e.state)).toStrictEqual(e.state);
    }
    expect([...kinds].sort()).toEqual(['agent_state', 'conversation', 'notify', 'outbound', 'sla']);
    expect(AgentState.fromPartial(engine.agentState('a1'))).toStrictEqual(engine.agentState('a1'));
  });
});
