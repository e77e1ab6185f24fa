// Outbound mail: replies and notifications for email conversations, sent with nodemailer,
// threaded with In-Reply-To/References and the reference in the subject.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Registry } from 'prom-client';
import { topics, type ConsumedEvent, type EventProducer } from '../../../libs/kafka';
import { errorDetails, sharedCounter, type Logger } from '../../../libs/observability';
import { Channel, IdentityKind, OutboundKind, type OutboundMessage } from '../../../libs/proto';
import type { EmailConfig } from './config';
import { deliveryReported } from './messages';
import type { EmailStore } from './store';
import { replySubject } from './threading';

/** Kinds that mean something in a mailbox; typing indicators and the like are for live channels. */
const MAILED = new Set([
  OutboundKind.OUTBOUND_KIND_REPLY,
  OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT,
  OutboundKind.OUTBOUND_KIND_STATUS_UPDATE,
  OutboundKind.OUTBOUND_KIND_CONVERSATION_ENDED,
  OutboundKind.OUTBOUND_KIND_SURVEY,
]);

export interface OutboundDeps {
  config: EmailConfig;
  store: EmailStore;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  transporter?: Transporter;
}

/** A send that failed; permanent when the server refused for good (5xx). */
export function classifySendError(err: unknown): { permanent: boolean; code: string; detail: string } {
  const e = err as { responseCode?: number; code?: string; message?: string };
  const detail = e.message ?? String(err);
  if (typeof e.responseCode === 'number') return { permanent: e.responseCode >= 500, code: String(e.responseCode), detail };
  return { permanent: false, code: e.code ?? 'ERROR', detail };
}

export function messageIdFor(outboundMessageId: string, from: string): string {
  const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'localhost';
  return `<${outboundMessageId.replace(/[^A-Za-z0-9._-]/g, '-')}@${domain}>`;
}

export function createOutboundHandler(deps: OutboundDeps) {
  const { config, store, producer, logger } = deps;
  const transporter = deps.transporter ?? nodemailer.createTransport(config.SMTP_URL);
  const sent = sharedCounter(deps.metrics, { name: 'cc_email_outbound_total', help: 'Outbound mail by outcome', labelNames: ['outcome'] });

  const report = async (message: OutboundMessage, outcome: Parameters<typeof deliveryReported>[1]) => {
    const event = deliveryReported(message, outcome, new Date());
    await producer.publish(topics.conversationEvents, message.conversationId, event, { id: event.eventId });
  };

  const handler = async ({ value: message }: ConsumedEvent<OutboundMessage>): Promise<void> => {
    if (message.channel !== Channel.CHANNEL_EMAIL || !MAILED.has(message.kind)) return;
    const conversation = await store.conversation(message.conversationId);
    const to = message.recipient?.kind === IdentityKind.IDENTITY_KIND_EMAIL ? message.recipient.value : conversation?.customerAddress;
    if (!to) {
      sent.inc({ outcome: 'no_recipient' });
      await report(message, { delivered: false, permanent: true, errorCode: 'NO_RECIPIENT', detail: 'no email address for this conversation' });
      return;
    }
    const reference = message.conversationReference || conversation?.reference || '';
    const thread = conversation?.messageIds ?? [];
    const messageId = messageIdFor(message.messageId, config.MAIL_FROM);
    const mail = {
      from: config.MAIL_FROM,
      to,
      subject: message.subject ? ensureReference(message.subject, reference) : replySubject(conversation?.subject ?? '', reference),
      text: message.text,
      messageId,
      ...(thread.length ? { inReplyTo: thread[thread.length - 1], references: thread } : {}),
      // RFC 3834: what the system sends by itself is marked, so other robots do not answer it.
      ...(message.kind === OutboundKind.OUTBOUND_KIND_REPLY ? {} : { headers: { 'Auto-Submitted': 'auto-replied' } }),
    };
    for (let attempt = 1; ; attempt++) {
      try {
        await transporter.sendMail(mail);
        break;
      } catch (err) {
        const failure = classifySendError(err);
        if (failure.permanent || attempt >= config.OUTBOUND_MAX_ATTEMPTS) {
          sent.inc({ outcome: failure.permanent ? 'failed_permanently' : 'gave_up' });
          logger.warn({ conversationId: message.conversationId, attempt, code: failure.code }, 'outbound mail not delivered');
          const detail = failure.permanent ? failure.detail : `gave up after ${attempt} attempts: ${failure.detail}`;
          await report(message, { delivered: false, permanent: failure.permanent, errorCode: failure.code, detail });
          return;
        }
        logger.info({ conversationId: message.conversationId, attempt, ...errorDetails(err) }, 'outbound mail failed; retrying');
        await new Promise((r) => setTimeout(r, Math.min(250 * 2 ** (attempt - 1), 10_000)));
      }
    }
    if (conversation) await store.addMessage(message.conversationId, messageId);
    sent.inc({ outcome: 'sent' });
    await report(message, { delivered: true });
  };
  return { handler, close: () => transporter.close() };
}

function ensureReference(subject: string, reference: string): string {
  return !reference || subject.includes(`[#${reference}]`) ? subject : `${subject} [#${reference}]`;
}
