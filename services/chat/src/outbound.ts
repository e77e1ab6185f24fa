// Outbound records for chat (agents' replies, routing's wait estimates, the end, the survey):
// stored once for resume, then delivered to the visitor's sessions on this instance.
import { SURVEY_AGENT, SURVEY_QUEUE } from '#libs/survey';
import { InvalidEventError } from '#libs/kafka';
import { Channel, type OutboundMessage } from '#libs/proto';
import { outboundEffect } from './conversation';
import type { ChatParts } from './parts';
import { toEntry } from './store';

export function createOutboundDelivery({ store, connected, log, config }: Pick<ChatParts, 'store' | 'connected' | 'log' | 'config'>) {
  return async function deliverOutbound(message: OutboundMessage, eventId: string): Promise<void> {
    if (message.channel !== Channel.CHANNEL_CHAT) return;
    if (!message.conversationId) throw new InvalidEventError('chat outbound message has no conversation_id');
    const effect = outboundEffect(message, config.CHAT_CLOSED_EMAIL_ADDRESS);
    if (effect.action === 'ignore') return;
    const conversation = await store.getConversation(message.conversationId);
    if (!conversation) {
      log.debug({ conversationId: message.conversationId }, 'outbound message for a conversation this service does not know');
      return;
    }
    if (effect.action === 'transient') {
      if (effect.wait) await store.setFact(conversation._id, 'wait', effect.wait);
      connected.deliver(conversation._id, effect.frame);
      return;
    }
    const doc = await store.storeOnce({
      _id: `${conversation._id}/o/${message.messageId || eventId}`,
      conversationId: conversation._id,
      ...effect.entry,
      at: message.createdAt ?? new Date(),
      accepted: true,
    });
    if (effect.ends) await store.setFact(conversation._id, 'ended', true);
    if (effect.entry.kind === 'survey') {
      const servedBy = { agentId: message.channelMetadata[SURVEY_AGENT] ?? '', queue: message.channelMetadata[SURVEY_QUEUE] ?? '' };
      await Promise.all([store.setFact(conversation._id, 'surveyQuestion', doc.text), store.setFact(conversation._id, 'surveyServedBy', servedBy)]);
    }
    connected.deliver(conversation._id, toEntry(doc));
  };
}
