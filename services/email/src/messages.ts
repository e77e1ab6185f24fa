// Building the events the email service publishes. No I/O.
import { deliveryReportedEvent, type DeliveryReport } from '#libs/delivery';
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
} from '#libs/proto';
import { type Calendars, openingInWords } from '#libs/calendars';
import { eventId, idDigest, waitInWords } from '#libs/contact';
import type { NormalisedMail } from './normalise';
import type { ThreadDecision } from './threading';

export function contactReceived(
  mail: NormalisedMail,
  ids: { contactId: string; conversationId: string; newConversation: boolean; reference: string },
  recipient: string,
  storageRefs: string[],
  receivedAt: Date,
  sender: { authentication?: SenderAuthentication; conversationSender?: ConversationSenderCheck; acknowledgedClosedUntil?: Date | undefined } = {},
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
    ...(mail.onBehalfOf ? { onBehalfOf: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: mail.onBehalfOf } } : {}),
    ...(sender.acknowledgedClosedUntil ? { acknowledgedClosedUntil: sender.acknowledgedClosedUntil } : {}),
  });
}

/** Whether the queue a new mail goes to is open: from the calendars the service holds; undefined when it holds none for it. */
export type QueueHours = ReturnType<Calendars['status']>;

/** What the acknowledgement says of the answer time: the aim while open, the opening while closed, in the queue's zone. */
function answerTime(expectedMs: number, hours: QueueHours | undefined, now: Date): string {
  if (!hours)
    // No calendar known: routing's own status mail follows with the opening time when closed.
    return `We aim to answer within ${waitInWords(expectedMs)} of our opening hours; if we are closed now, a second message tells you when we open again. `;
  if (hours.open) return `We aim to answer within ${waitInWords(expectedMs)}. `;
  if (hours.opensAt === undefined) return 'We are closed now and no opening is planned yet; we will answer you as soon as we open. ';
  return (
    `We are closed now; we open again ${openingInWords(hours.calendar, hours.opensAt, now.getTime())} (${hours.calendar.zone}) ` +
    `and aim to answer within ${waitInWords(expectedMs)} of opening. `
  );
}

/** The acknowledgement a new conversation gets: its reference and when to expect an answer. */
export function acknowledgement(thread: ThreadDecision, mail: NormalisedMail, expectedMs: number, now: Date, hours?: QueueHours): OutboundMessage {
  return OutboundMessage.fromPartial({
    // Stable per conversation: a second attempt is the same message, de-duplicated downstream.
    messageId: eventId('email', 'ack', thread.conversationId),
    conversationId: thread.conversationId,
    channel: Channel.CHANNEL_EMAIL,
    kind: OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT,
    recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: mail.senderAddress },
    text:
      `Thank you for your message. Your reference is ${thread.reference}.\n\n` +
      // Business time: routing's SLA clock stops while the queue is closed.
      answerTime(expectedMs, hours, now) +
      `Please keep [#${thread.reference}] in the subject if you write again, so your messages stay together.`,
    createdAt: now,
    estimatedWaitMs: expectedMs,
    conversationReference: thread.reference,
    ...(hours && !hours.open && hours.opensAt !== undefined ? { closedUntil: new Date(hours.opensAt) } : {}),
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
function deliveryEventId(messageId: string, delivered: boolean, uncertain = false): string {
  const outcome = uncertain ? 'uncertain' : String(delivered);
  return eventId('email', 'email-delivery', idDigest(`${messageId}/${outcome}`));
}
