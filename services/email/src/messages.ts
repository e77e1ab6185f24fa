// Building the events the email service publishes. No I/O.
import { createHash } from 'node:crypto';
import { deliveryReportedEvent, type DeliveryReport } from '../../../libs/delivery';
import {
  Channel,
  ContactKind,
  ContactReceived,
  ConversationEvent,
  type ConversationSenderCheck,
  IdentityKind,
  OutboundKind,
  OutboundMessage,
  type SenderAuthentication,
} from '../../../libs/proto';
import type { NormalisedMail } from './normalise';
import type { ThreadDecision } from './threading';

export function contactReceived(
  mail: NormalisedMail,
  ids: { contactId: string; conversationId: string; newConversation: boolean; reference: string },
  recipient: string,
  storageRefs: string[],
  receivedAt: Date,
  sender: { authentication?: SenderAuthentication; conversationSender?: ConversationSenderCheck } = {},
): ContactReceived {
  return ContactReceived.fromPartial({
    contactId: ids.contactId,
    conversationId: ids.conversationId,
    channel: Channel.CHANNEL_EMAIL,
    kind: mail.automatedReason ? ContactKind.CONTACT_KIND_AUTOMATED : ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt,
    sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: mail.senderAddress },
    senderDisplayName: mail.senderName,
    recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: recipient },
    newConversation: ids.newConversation,
    conversationReference: ids.reference,
    subject: mail.subject,
    text: mail.text,
    quotedText: mail.quotedText,
    attachments: mail.attachments.map((a, i) => ({ ...a, storageRef: storageRefs[i] ?? '' })),
    externalId: mail.messageId,
    channelMetadata: {
      ...(mail.messageId ? { 'message-id': mail.messageId } : {}),
      ...(mail.threadIds.length ? { 'in-reply-to': mail.threadIds[0]!, references: mail.threadIds.join(' ') } : {}),
      ...(mail.automatedReason ? { 'automated-reason': mail.automatedReason } : {}),
    },
    senderAuthentication: sender.authentication,
    conversationSender: sender.conversationSender,
  });
}

/** "4 hours", "90 minutes", "1 day": how long, in words. */
export function durationInWords(ms: number): string {
  const minutes = Math.max(1, Math.round(ms / 60_000));
  const plural = (n: number, unit: string) => `${n} ${unit}${n === 1 ? '' : 's'}`;
  if (minutes < 120) return plural(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  if (hours < 48) return plural(hours, 'hour');
  return plural(Math.round(hours / 24), 'day');
}

/** The acknowledgement a new conversation gets: its reference and when to expect an answer. */
export function acknowledgement(thread: ThreadDecision, mail: NormalisedMail, expectedMs: number, now: Date): OutboundMessage {
  return OutboundMessage.fromPartial({
    // Stable per conversation: a second attempt is the same message, de-duplicated downstream.
    messageId: `ack-${thread.conversationId}`,
    conversationId: thread.conversationId,
    channel: Channel.CHANNEL_EMAIL,
    kind: OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT,
    recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: mail.senderAddress },
    text:
      `Thank you for your message. Your reference is ${thread.reference}.\n\n` +
      `We aim to answer within ${durationInWords(expectedMs)}. ` +
      `Please keep [#${thread.reference}] in the subject if you write again, so your messages stay together.`,
    createdAt: now,
    estimatedWaitMs: expectedMs,
    conversationReference: thread.reference,
  });
}

/** The conversation event that reports what became of an outbound mail. */
export function deliveryReported(message: OutboundMessage, report: DeliveryReport, now: Date): ConversationEvent {
  return deliveryReportedEvent(message, report, {
    eventId: deliveryEventId(message.messageId, report.delivered, !report.delivered && report.uncertain),
    channel: Channel.CHANNEL_EMAIL,
    occurredAt: now,
    accepted: { code: 'delivery.sent', text: 'accepted by the outbound mail server' },
  });
}

/** Stable per message and outcome: the same report published again is one event downstream. */
export function deliveryEventId(messageId: string, delivered: boolean, uncertain = false): string {
  const outcome = uncertain ? 'uncertain' : String(delivered);
  return `email-delivery-${createHash('sha256').update(`${messageId}/${outcome}`).digest('hex').slice(0, 32)}`;
}
