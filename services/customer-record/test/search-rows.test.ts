import { describe, expect, it } from 'vitest';
import { Channel, ContactReceived, ConversationEvent, IdentityKind } from '#libs/proto';
import { holds } from '../src/access';
import { applyContact, applyConversationEvent, type ConversationRow } from '../src/search/rows';

const t0 = new Date('2025-03-01T09:00:00Z');
const at = (minutes: number) => new Date(t0.getTime() + minutes * 60_000);
const contact = (id: string, minutes: number, text: string) =>
  ContactReceived.fromPartial({
    contactId: id,
    conversationId: 'conv-1',
    channel: Channel.CHANNEL_EMAIL,
    receivedAt: at(minutes),
    sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'Ann@Example.com' },
    subject: 'Refund',
    text,
  });
const event = (id: string, minutes: number, step: ConversationEvent['step'], customerId = '') =>
  ConversationEvent.fromPartial({ eventId: id, conversationId: 'conv-1', occurredAt: at(minutes), channel: Channel.CHANNEL_EMAIL, customerId, step } as never);

function run(...steps: ((row: ConversationRow | null) => ReturnType<typeof applyContact>)[]): ConversationRow {
  let row: ConversationRow | null = null;
  for (const s of steps) row = s(row)?.row ?? row;
  return row!;
}

describe('event to row', () => {
  it('makes a queued conversation of the first contact, its sender searchable and its text a message', () => {
    const change = applyContact(null, contact('c-1', 0, 'my card was charged twice'))!;
    expect(change.row).toMatchObject({ conversationId: 'conv-1', channel: Channel.CHANNEL_EMAIL, state: 'queued', messageCount: 1, subject: 'Refund' });
    expect(change.identity).toEqual({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ann@example.com', namespace: '' });
    expect(change.message).toEqual({ id: 'c-1', text: 'Refund\nmy card was charged twice', at: change.row.lastActivityAt });
  });

  it("follows routing's steps: queue, agent, transfer, reply, resolution", () => {
    const row = run(
      (r) => applyContact(r, contact('c-1', 0, 'hello')),
      (r) => applyConversationEvent(r, event('e-1', 1, { $case: 'queued', queued: { queue: 'billing' } } as never, 'cust-1')),
      (r) => applyConversationEvent(r, event('e-2', 2, { $case: 'assigned', assigned: { agentId: 'ann' } } as never)),
      (r) =>
        applyConversationEvent(
          r,
          event('e-3', 3, { $case: 'transferred', transferred: { fromAgentId: 'ann', toAgentId: 'bob', toQueue: 'refunds' } } as never),
        ),
      (r) => applyConversationEvent(r, event('e-4', 4, { $case: 'replied', replied: { agentId: 'bob', text: 'done' } } as never)),
      (r) => applyConversationEvent(r, event('e-5', 5, { $case: 'resolved', resolved: { agentId: 'bob' } } as never)),
    );
    expect(row).toMatchObject({ customerId: 'cust-1', state: 'resolved', queue: 'refunds', agentId: 'bob', messageCount: 2 });
    expect(row.startedAt).toBe(at(0).getTime());
    expect(row.lastActivityAt).toBe(at(5).getTime());
    // The access rules of every other read: ann released at the transfer, bob at the resolution.
    expect(holds(row.access, 'ann', at(60), 3_600_000)).toBe(true);
    expect(holds(row.access, 'ann', at(64), 3_600_000)).toBe(false);
    expect(holds(row.access, 'bob', at(64), 3_600_000)).toBe(true);
  });

  it('changes nothing for an event applied before, and keeps the latest activity when events come late', () => {
    const first = applyConversationEvent(null, event('e-1', 5, { $case: 'assigned', assigned: { agentId: 'ann' } } as never))!.row;
    expect(applyConversationEvent(first, event('e-1', 5, { $case: 'assigned', assigned: { agentId: 'ann' } } as never))).toBeNull();
    const late = applyContact(first, contact('c-1', 0, 'hello'))!.row;
    expect(late).toMatchObject({ startedAt: at(0).getTime(), lastActivityAt: at(5).getTime(), state: 'assigned', agentId: 'ann' });
    expect(applyContact(late, contact('c-1', 0, 'hello'))).toBeNull();
  });

  it('indexes no identity for a chat visitor, and no message for an empty text', () => {
    const c = ContactReceived.fromPartial({
      contactId: 'c-9',
      conversationId: 'conv-9',
      receivedAt: t0,
      sender: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'v-1' },
    });
    const change = applyContact(null, c)!;
    expect(change.identity).toBeUndefined();
    expect(change.message).toBeUndefined();
  });
});
