// What the channel does with a sender's verdict: whether it acknowledges the mail, and whether a
// message on an existing conversation is from that conversation's customer. No I/O.
import { ConversationSender, SenderVerdict } from '#libs/proto';
import type { EmailConfig } from './config';

export type AcknowledgementPolicy = EmailConfig['EMAIL_ACK_SENDERS'];

/**
 * An acknowledgement goes to the From address, so to a forged address it is backscatter from our
 * domain. "authenticated" (the default) answers only a From that an aligned SPF or DKIM pass
 * proves; "not-failed" also answers domains that publish nothing. A failed or unknown (DNS
 * trouble) verdict is never answered: unknown is not a pass.
 */
export function shouldAcknowledge(verdict: SenderVerdict, policy: AcknowledgementPolicy): boolean {
  if (verdict === SenderVerdict.SENDER_VERDICT_PASS) return true;
  return policy === 'not-failed' && verdict === SenderVerdict.SENDER_VERDICT_NONE;
}

/**
 * Anyone who knows a conversation's reference or one of its Message-IDs can write into it, so a
 * message that joins a conversation is compared with the address that opened it. It is still
 * threaded either way: the agent decides, seeing the mark.
 */
export function conversationSenderOf(input: {
  joinsExisting: boolean;
  customerAddresses: readonly string[];
  senderAddress: string;
  verdict: SenderVerdict;
}): ConversationSender {
  if (!input.joinsExisting) return ConversationSender.CONVERSATION_SENDER_UNSPECIFIED;
  const sender = input.senderAddress.toLowerCase();
  if (!input.customerAddresses.some((a) => a.toLowerCase() === sender)) return ConversationSender.CONVERSATION_SENDER_OTHER;
  return input.verdict === SenderVerdict.SENDER_VERDICT_PASS
    ? ConversationSender.CONVERSATION_SENDER_CUSTOMER
    : ConversationSender.CONVERSATION_SENDER_CUSTOMER_UNVERIFIED;
}
