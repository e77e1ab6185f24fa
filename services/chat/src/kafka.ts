// The chat's Kafka edge: what it publishes (visitors' messages, survey answers, verification
// mails) and the outbound records it reads (agents' replies and routing's news for visitors).
import { topics, type EventProducer } from '#libs/kafka';
import type { ContactReceived, ConversationEvent, OutboundMessage } from '#libs/proto';
import type { ServiceKafka } from '#libs/service';

/** Each publish resolves once Kafka acknowledged it and throws KafkaUnavailableError when it did not. */
export class ChatEvents {
  constructor(private readonly producer: EventProducer) {}

  async visitorMessage(contact: ContactReceived): Promise<void> {
    await this.producer.publish(topics.contactInbound, contact.conversationId, contact, { id: contact.contactId, time: contact.receivedAt });
  }

  async surveyAnswered(event: ConversationEvent): Promise<void> {
    await this.producer.publish(topics.conversationEvents, event.conversationId, event, { id: event.eventId });
  }

  /** A message for another channel, such as the mail that carries a verification code. */
  async outbound(message: OutboundMessage): Promise<void> {
    await this.producer.publish(topics.outbound, message.conversationId, message, { id: message.messageId });
  }
}

/**
 * Reads every outbound record from now on. Each instance has its own group: every instance
 * reads every record, and the one holding the visitor's socket delivers it.
 */
export async function consumeOutbound(
  kafka: ServiceKafka,
  instanceId: string,
  handle: (message: OutboundMessage, eventId: string) => Promise<void>,
): Promise<void> {
  const consumer = kafka.consumer({ groupId: `chat-outbound-${instanceId}`, fromBeginning: false });
  consumer.on(topics.outbound, ({ value, event }) => handle(value, event.id));
  await consumer.start();
}
