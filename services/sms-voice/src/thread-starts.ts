// Which company number a message goes out from when its conversation has no number pair yet, and
// the pair then pointing at that conversation, so the customer's answer joins it.
import { Channel, type OutboundMessage } from '#libs/proto';
import type { SmsVoiceConfig } from './config';
import type { SmsVoiceStore } from './store';
import { messagingAddress } from './whatsapp';

type Numbers = { customer: string; company: string };

/**
 * A call's conversation texted (a callback given up) goes from the number the customer called;
 * a conversation the company starts, by SMS from SMS_COMPANY_NUMBER, on WhatsApp from
 * WHATSAPP_COMPANY_NUMBER (else the SMS number). Undefined when there is no number to use.
 */
export async function newThread(
  store: SmsVoiceStore,
  config: Pick<SmsVoiceConfig, 'SMS_COMPANY_NUMBER' | 'WHATSAPP_COMPANY_NUMBER'>,
  message: OutboundMessage,
  customer: string,
): Promise<Numbers | undefined> {
  const call = message.channel === Channel.CHANNEL_SMS ? await store.callOfConversation(message.conversationId) : undefined;
  const number =
    call?.company ?? (message.channel === Channel.CHANNEL_WHATSAPP ? (config.WHATSAPP_COMPANY_NUMBER ?? config.SMS_COMPANY_NUMBER) : config.SMS_COMPANY_NUMBER);
  if (!number) return undefined;
  const company = call ? number : messagingAddress(message.channel, number);
  await store.startThread(message.conversationId, customer, company, new Date());
  return { customer, company };
}
