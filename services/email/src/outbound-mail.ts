// The mail an outbound message becomes: addressed, threaded with In-Reply-To/References and the
// reference in the subject, with a Message-ID that is the same on every attempt. No I/O.
import { OutboundKind, type OutboundMessage } from '#libs/proto';
import type { EmailConfig } from './config';
import type { EmailConversation } from './store';
import { replySubject } from './threading';

/** Kinds that mean something in a mailbox; typing indicators and the like are for live channels. */
export const MAILED = new Set([
  OutboundKind.OUTBOUND_KIND_REPLY,
  OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT,
  OutboundKind.OUTBOUND_KIND_STATUS_UPDATE,
  OutboundKind.OUTBOUND_KIND_CONVERSATION_ENDED,
  OutboundKind.OUTBOUND_KIND_SURVEY,
  OutboundKind.OUTBOUND_KIND_VERIFICATION_CODE,
]);

export function messageIdFor(outboundMessageId: string, from: string): string {
  const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'localhost';
  return `<${outboundMessageId.replace(/[^A-Za-z0-9._-]/g, '-')}@${domain}>`;
}

export function composeMail(
  message: OutboundMessage,
  to: string,
  conversation: EmailConversation | undefined,
  thread: string[],
  config: Pick<EmailConfig, 'MAIL_FROM'>,
) {
  const reference = message.conversationReference || conversation?.reference || '';
  return {
    from: config.MAIL_FROM,
    to,
    subject: message.subject ? ensureReference(message.subject, reference) : replySubject(conversation?.subject ?? '', reference),
    text: message.text,
    // Derived from the outbound message id: the same on every attempt, so a receiving system
    // that de-duplicates on Message-ID sees one message.
    messageId: messageIdFor(message.messageId, config.MAIL_FROM),
    ...(thread.length ? { inReplyTo: thread[thread.length - 1], references: thread } : {}),
    // RFC 3834: what the system sends by itself is marked, so other robots do not answer it.
    ...(message.kind === OutboundKind.OUTBOUND_KIND_REPLY ? {} : { headers: { 'Auto-Submitted': 'auto-replied' } }),
  };
}

/** A plain mail with the code: no thread, no reference in the subject, marked as sent by a robot. */
export function composeCodeMail(message: OutboundMessage, to: string, config: Pick<EmailConfig, 'MAIL_FROM'>) {
  return {
    from: config.MAIL_FROM,
    to,
    subject: message.subject || 'Your verification code',
    text: message.text,
    messageId: messageIdFor(message.messageId, config.MAIL_FROM),
    headers: { 'Auto-Submitted': 'auto-generated' },
  };
}

function ensureReference(subject: string, reference: string): string {
  return !reference || subject.includes(`[#${reference}]`) ? subject : `${subject} [#${reference}]`;
}
