// The desk's mark on an email whose sender is not the conversation's customer or not authenticated.
import { describe, expect, it } from 'vitest';
import { Channel, ContactReceived, ConversationSender, SenderAuthentication, SenderVerdict } from '#libs/proto';
import { contactItem, senderWarning } from '../src/views';

const contact = (overrides: Partial<ContactReceived>) =>
  ContactReceived.fromPartial({ contactId: 'm1', conversationId: 'c1', channel: Channel.CHANNEL_EMAIL, text: 'hello', ...overrides });
const verdict = (v: SenderVerdict) => SenderAuthentication.fromPartial({ verdict: v, fromAligned: v === SenderVerdict.SENDER_VERDICT_PASS });

describe('sender warning', () => {
  it("marks a reply from another address than the conversation's customer as not verified", () => {
    const item = contactItem(
      contact({
        senderAuthentication: verdict(SenderVerdict.SENDER_VERDICT_PASS),
        conversationSender: { result: ConversationSender.CONVERSATION_SENDER_OTHER, joinedBy: 'subject-reference' },
      }),
    );
    expect(item.senderWarning).toBe("Sender differs from the conversation's customer: not verified");
  });

  it("says when the customer's address could not be authenticated, and when its authentication failed", () => {
    const unverified = { result: ConversationSender.CONVERSATION_SENDER_CUSTOMER_UNVERIFIED, joinedBy: 'in-reply-to' };
    expect(senderWarning({ senderAuthentication: verdict(SenderVerdict.SENDER_VERDICT_NONE), conversationSender: unverified })).toBe(
      "Sender not verified: the customer's address, but it could not be authenticated",
    );
    expect(senderWarning({ senderAuthentication: verdict(SenderVerdict.SENDER_VERDICT_FAIL), conversationSender: unverified })).toMatch(
      /authentication failed \(it may be forged\)/,
    );
  });

  it('marks a failed From on a new conversation, and nothing for a verified customer or another channel', () => {
    expect(senderWarning({ senderAuthentication: verdict(SenderVerdict.SENDER_VERDICT_FAIL) })).toMatch(/failed authentication/);
    expect(
      senderWarning({
        senderAuthentication: verdict(SenderVerdict.SENDER_VERDICT_PASS),
        conversationSender: { result: ConversationSender.CONVERSATION_SENDER_CUSTOMER, joinedBy: 'in-reply-to' },
      }),
    ).toBe('');
    expect(contactItem(contact({ channel: Channel.CHANNEL_SMS })).senderWarning).toBe('');
  });
});
