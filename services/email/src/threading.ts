// Which conversation a mail belongs to. No I/O: the thread index is asked through this interface.
import { newConversationId, newConversationReference } from '#libs/contact';
import type { NormalisedMail } from './normalise';

export interface ThreadIndex {
  /** The conversation a Message-ID (ours or the customer's) belongs to. */
  conversationOfMessage(messageId: string): Promise<string | undefined>;
  /** The conversation a subject reference belongs to. */
  conversationOfReference(reference: string): Promise<{ conversationId: string } | undefined>;
}

export interface ThreadDecision {
  conversationId: string;
  reference: string;
  isNew: boolean;
  /** How it was decided, for logs and metrics. */
  how: 'message-id' | 'in-reply-to' | 'subject-reference' | 'new';
}

export async function decideThread(
  mail: NormalisedMail,
  index: ThreadIndex,
  referenceOf: (conversationId: string) => Promise<string | undefined>,
): Promise<ThreadDecision> {
  // The same mail again (an SMTP retry) stays where it went the first time.
  if (mail.messageId) {
    const known = await index.conversationOfMessage(mail.messageId);
    if (known) return { conversationId: known, reference: (await referenceOf(known)) ?? '', isNew: false, how: 'message-id' };
  }
  for (const id of mail.threadIds) {
    const known = await index.conversationOfMessage(id);
    if (known) return { conversationId: known, reference: (await referenceOf(known)) ?? '', isNew: false, how: 'in-reply-to' };
  }
  if (mail.reference) {
    const known = await index.conversationOfReference(mail.reference);
    if (known) return { conversationId: known.conversationId, reference: mail.reference, isNew: false, how: 'subject-reference' };
  }
  return { conversationId: newConversationId(), reference: newConversationReference(), isNew: true, how: 'new' };
}

/** Our subject for a reply: the customer's subject with "Re:" once and the reference once. */
export function replySubject(subject: string, reference: string): string {
  const base =
    subject
      .replace(/\[#[A-Z0-9]{6}\]/g, '')
      .replace(/\s+/g, ' ')
      .trim() || 'Your message';
  const withRe = /^re:/i.test(base) ? base : `Re: ${base}`;
  return reference ? `${withRe} [#${reference}]` : withRe;
}
