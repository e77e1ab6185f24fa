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
 * reads every record, and the one holding the visitor's socket delivers it. Resolves once the
 * group is joined; the instance is ready before that (see docs/chat.md, "Start-up").
 */
/** The outbound group's session: a crashed member is forgotten after this. */
const OUTBOUND_SESSION_TIMEOUT_MS = 6000;

export async function consumeOutbound(
  kafka: ServiceKafka,
  instanceId: string,
  handle: (message: OutboundMessage, eventId: string) => Promise<void>,
): Promise<void> {
  // A restarted instance joins its own group again, whose member from before a crash holds the
  // join until its session ends: a short session keeps that wait to a few seconds.
  const consumer = kafka.consumer(
    { groupId: `chat-outbound-${instanceId}`, fromBeginning: false, sessionTimeoutMs: OUTBOUND_SESSION_TIMEOUT_MS, heartbeatIntervalMs: 1000 },
    { readyWhileJoining: true },
  );
  consumer.on(topics.outbound, ({ value, event }) => handle(value, event.id));
  await consumer.start();
}
