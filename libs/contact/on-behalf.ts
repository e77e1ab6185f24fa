// Whether a contact's sender is proven enough to be recognised as an intermediary acting for someone.
import { Channel, SenderVerdict, type ContactReceived } from '../proto';

/**
 * An email only with an authenticated From (an aligned SPF or DKIM pass): a forged From would
 * otherwise borrow an agency's mandates. Other channels' senders are their channel's own.
 */
export function senderMayActForOthers(c: Pick<ContactReceived, 'channel' | 'senderAuthentication'>): boolean {
  return c.channel !== Channel.CHANNEL_EMAIL || c.senderAuthentication?.verdict === SenderVerdict.SENDER_VERDICT_PASS;
}
