// What a chat visitor and an email customer get of a promise's status message: routing's
// outbound message as the chat and email services turn it into an entry and a mail (their plain
// modules, no servers). SMS is covered end to end in promises.integration.test.ts.
import { describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind, OutboundKind, Presence, Tier } from '#libs/proto';
import { RoutingEngine, type Effect } from '../../services/routing/src/core/engine';
import { policyWith } from '../../services/routing/src/core/policy';
import { outboundEffect } from '../../services/chat/src/conversation';
import { composeMail, MAILED } from '../../services/email/src/outbound-mail';

const DAY = 86_400_000;

function statusMessage(channel: Channel, subject: string) {
  const clock = { now: () => Date.UTC(2026, 0, 5, 10, 0) };
  const engine = new RoutingEngine(policyWith({}), clock);
  engine.registerAgent({ id: 'ann', name: 'Ann', tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'] });
  engine.setPresence('ann', Presence.PRESENCE_AVAILABLE);
  const sender =
    channel === Channel.CHANNEL_EMAIL
      ? { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ana@example.com' }
      : { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'v-1' };
  const contact = ContactReceived.fromPartial({
    contactId: 'c1',
    conversationId: 'conv-1',
    channel,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    sender,
    subject,
    text: 'Any news?',
    newConversation: true,
    conversationReference: 'AB12CD',
  });
  engine.contactReceived(contact);
  engine.accept('ann', 'conv-1');
  const { effects } = engine.setPromise({ id: 'ann', supervisor: false }, 'conv-1', {
    milestone: 'the technician visits',
    dueAt: clock.now() + 2 * DAY,
    costMinor: 0,
    currency: '',
  });
  const asked = engine.contactReceived(ContactReceived.fromPartial({ ...contact, contactId: 'c2', text: 'status', newConversation: false }));
  const outbound = (list: Effect[]) => list.flatMap((e) => (e.type === 'outbound' ? [e.message] : []));
  return [...outbound(effects), ...outbound(asked)];
}

describe('a promise on chat and email', () => {
  it('shows the chat visitor the status and the answer to "status" as notices', () => {
    const [set, answer] = statusMessage(Channel.CHANNEL_CHAT, '');
    expect(outboundEffect(set!)).toEqual({
      action: 'entry',
      entry: {
        from: 'system',
        kind: 'notice',
        text: 'Where we are with your case: next step: the technician visits, expected by Wednesday 7 January 2026, 10:00 UTC.',
      },
    });
    expect(outboundEffect(answer!)).toMatchObject({
      action: 'entry',
      entry: { kind: 'notice', text: expect.stringMatching(/^Status of your case: next step: the technician visits/) },
    });
  });

  it('mails the email customer the status in the thread, with the reference in the subject', () => {
    const [set, answer] = statusMessage(Channel.CHANNEL_EMAIL, 'Washing machine repair');
    for (const message of [set!, answer!]) expect(MAILED.has(message.kind) && message.kind === OutboundKind.OUTBOUND_KIND_STATUS_UPDATE).toBe(true);
    const mail = composeMail(set!, 'ana@example.com', undefined, ['<first@example.com>'], { MAIL_FROM: 'Support <support@example.com>' });
    expect(mail).toMatchObject({
      to: 'ana@example.com',
      inReplyTo: '<first@example.com>',
      text: expect.stringContaining('Where we are with your case "Washing machine repair": next step: the technician visits'),
    });
    expect(mail.subject).toContain('AB12CD');
    expect(answer!.text).toMatch(/^Status of your case "Washing machine repair"/);
  });
});
