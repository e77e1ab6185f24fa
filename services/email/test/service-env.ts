// What every email test's service shares: the test broker and store, its own database, and
// ports the system picks, so tests running side by side never take each other's. They follow no
// routing deployment's calendars unless a test names its own (EMAIL_CALENDARS_DEPLOYMENT). Also an
// agent's reply as routing publishes it.
import { Channel, IdentityKind, OutboundKind, OutboundMessage } from '#libs/proto';
import { KAFKA_BROKERS, MONGODB_URI, uniqueId } from '#libs/testing';

export function emailTestEnv(database: string): Record<string, string> {
  return { KAFKA_BROKERS: KAFKA_BROKERS.join(','), MONGODB_URI, MONGODB_DATABASE: database, SMTP_PORT: '0', HTTP_PORT: '0', EMAIL_CALENDARS_DEPLOYMENT: '' };
}

/** A reply to `to` on a new conversation of its own; `fields` adds to it or overrides. */
export function emailReply(to: string, fields: Partial<OutboundMessage> = {}): OutboundMessage {
  return OutboundMessage.fromPartial({
    messageId: uniqueId('reply'),
    conversationId: uniqueId('conv'),
    channel: Channel.CHANNEL_EMAIL,
    kind: OutboundKind.OUTBOUND_KIND_REPLY,
    recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: to },
    subject: 'Your order',
    text: 'It ships tomorrow.',
    ...fields,
  });
}
