// Building the events the email service publishes. No I/O.
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
import { eventId, idDigest, waitInWords } from '../../../libs/contact';
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

/** The acknowledgement a new conversation gets: its reference and when to expect an answer. */
export function acknowledgement(thread: ThreadDecision, mail: NormalisedMail, expectedMs: number, now: Date): OutboundMessage {
  return OutboundMessage.fromPartial({
    // Stable per conversation: a second attempt is the same message, de-duplicated downstream.
    messageId: eventId('email', 'ack', thread.conversationId),
    conversationId: thread.conversationId,
    channel: Channel.CHANNEL_EMAIL,
    kind: OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT,
    recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: mail.senderAddress },
    text:
      `Thank you for your message. Your reference is ${thread.reference}.\n\n` +
      `We aim to answer within ${waitInWords(expectedMs)}. ` +
      `Please keep [#${thread.reference}] in the subject if you write again, so your messages stay together.`,
    createdAt: now,
    estimatedWaitMs: expectedMs,
    conversationReference: thread.reference,
  });
}

/** What became of an outbound mail. uncertain: the send window closed without an answer. */
export interface DeliveryOutcomeReport {
  delivered: boolean;
  errorCode?: string;
  detail?: string;
  permanent?: boolean;
  uncertain?: boolean;
}

export function deliveryReported(message: OutboundMessage, outcome: DeliveryOutcomeReport, now: Date): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: deliveryEventId(message.messageId, outcome.delivered, outcome.uncertain),
    conversationId: message.conversationId,
    occurredAt: now,
    channel: Channel.CHANNEL_EMAIL,
    reason: outcome.delivered
      ? { code: 'delivery.sent', text: 'accepted by the outbound mail server' }
      : { code: failureReasonCode(outcome), text: outcome.detail ?? '' },
    step: {
      $case: 'deliveryReported',
      deliveryReported: {
        outboundMessageId: message.messageId,
        delivered: outcome.delivered,
        errorCode: outcome.errorCode ?? '',
        detail: outcome.detail ?? '',
        permanent: outcome.permanent ?? false,
      },
    },
  });
}

function failureReasonCode(outcome: DeliveryOutcomeReport): string {
  if (outcome.uncertain) return 'delivery.uncertain';
  return outcome.permanent ? 'delivery.failed_permanently' : 'delivery.gave_up';
}

/** Stable per message and outcome: the same report published again is one event downstream. */
export function deliveryEventId(messageId: string, delivered: boolean, uncertain = false): string {
  const outcome = uncertain ? 'uncertain' : String(delivered);
  return eventId('email', 'email-delivery', idDigest(`${messageId}/${outcome}`));
}
