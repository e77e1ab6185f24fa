// Outbound mail: replies and notifications for email conversations, sent with nodemailer,
// threaded with In-Reply-To/References and the reference in the subject. Each outbound message
// is claimed in the store before it is handed to the server, so it is mailed at most once.
import nodemailer, { type Transporter } from 'nodemailer';
import type { Registry } from 'prom-client';
import { deliverOnce, type DeliveryOutcome, type SendFailure } from '../../../libs/delivery';
import { InvalidEventError, topics, type ConsumedEvent, type EventProducer } from '../../../libs/kafka';
import { sharedCounter, type Logger } from '../../../libs/observability';
import { Channel, IdentityKind, OutboundKind, type OutboundMessage } from '../../../libs/proto';
import type { EmailConfig } from './config';
import { deliveryReported, type DeliveryOutcomeReport } from './messages';
import type { EmailConversation, EmailStore } from './store';
import { replySubject } from './threading';

/** Kinds that mean something in a mailbox; typing indicators and the like are for live channels. */
const MAILED = new Set([
  OutboundKind.OUTBOUND_KIND_REPLY,
  OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT,
  OutboundKind.OUTBOUND_KIND_STATUS_UPDATE,
  OutboundKind.OUTBOUND_KIND_CONVERSATION_ENDED,
  OutboundKind.OUTBOUND_KIND_SURVEY,
  OutboundKind.OUTBOUND_KIND_VERIFICATION_CODE,
]);

export interface OutboundDeps {
  config: EmailConfig;
  store: EmailStore;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  transporter?: Transporter;
}

/**
 * Bounds on one send, so the window in which a crash leaves a mail "maybe sent" is bounded too.
 * SEND_WINDOW_MS is how long another delivery waits on a claim still "sending" before calling it
 * uncertain: above what the transport's timeouts allow one send to take.
 */
export const SMTP_TIMEOUTS = { connectionTimeout: 10_000, greetingTimeout: 10_000, socketTimeout: 30_000 };
export const SEND_WINDOW_MS = 120_000;

/**
 * What a failed send proves. An SMTP reply is the server's word: 5xx refused for good, 4xx not
 * now (nothing was taken either way). A connection that never opened sent nothing. Anything
 * else (a timeout, a connection cut mid-transaction) may have left the mail with the server.
 */
export function classifySmtpFailure(err: unknown): SendFailure {
  const e = err as { responseCode?: number; code?: string; syscall?: string; message?: string };
  const detail = e.message ?? String(err);
  if (typeof e.responseCode === 'number' && e.responseCode >= 400) {
    return { kind: e.responseCode >= 500 ? 'refused-permanently' : 'refused-temporarily', code: String(e.responseCode), detail };
  }
  if (e.syscall === 'connect' || e.code === 'EDNS') return { kind: 'refused-temporarily', code: e.code ?? 'ECONNECTION', detail };
  // Refused by nodemailer itself before connecting (no usable recipient, bad configuration).
  if (e.code === 'EENVELOPE' || e.code === 'ECONFIG') return { kind: 'refused-permanently', code: e.code, detail };
  return { kind: 'uncertain', code: e.code ?? 'ERROR', detail };
}

export function messageIdFor(outboundMessageId: string, from: string): string {
  const domain = /@([^>\s]+)/.exec(from)?.[1] ?? 'localhost';
  return `<${outboundMessageId.replace(/[^A-Za-z0-9._-]/g, '-')}@${domain}>`;
}

export function createOutboundHandler(deps: OutboundDeps) {
  const { config, store, producer, logger } = deps;
  const transporter = deps.transporter ?? nodemailer.createTransport({ url: config.SMTP_URL, ...SMTP_TIMEOUTS });
  const sent = sharedCounter(deps.metrics, {
    name: 'cc_email_outbound_total',
    help: 'Outbound mail by outcome (sent, already_sent, failed_permanently, gave_up, uncertain, no_recipient)',
    labelNames: ['outcome'],
  });
  const stopping = new AbortController();

  const report = async (message: OutboundMessage, outcome: DeliveryOutcomeReport) => {
    const event = deliveryReported(message, outcome, new Date());
    await producer.publish(topics.conversationEvents, message.conversationId, event, { id: event.eventId });
  };

  const handler = async ({ value: message }: ConsumedEvent<OutboundMessage>): Promise<void> => {
    if (message.channel !== Channel.CHANNEL_EMAIL || !MAILED.has(message.kind)) return;
    if (!message.messageId) throw new InvalidEventError(`outbound message for conversation ${message.conversationId} has no message_id, so it cannot be sent once`);
    // A verification code (asked for in another channel) goes to the address it proves and
    // nowhere else: no email conversation is looked up, threaded or written.
    const code = message.kind === OutboundKind.OUTBOUND_KIND_VERIFICATION_CODE;
    const [conversation, thread] = code ? [undefined, []] : await Promise.all([store.conversation(message.conversationId), store.threadOf(message.conversationId)]);
    const to = message.recipient?.kind === IdentityKind.IDENTITY_KIND_EMAIL ? message.recipient.value : conversation?.customerAddress;
    if (!to) {
      sent.inc({ outcome: 'no_recipient' });
      await report(message, { delivered: false, permanent: true, errorCode: 'NO_RECIPIENT', detail: 'no email address for this conversation' });
      return;
    }
    const mail = code ? composeCodeMail(message, to, config) : composeMail(message, to, conversation, thread, config);
    // Stopping between attempts throws DeliveryInterruptedError, a RetryLaterError: left for later.
    const outcome = await deliverOnce({
      id: message.messageId,
      claims: store.deliveries,
      send: async () => (await transporter.sendMail(mail)).messageId || mail.messageId,
      classify: classifySmtpFailure,
      maxAttempts: config.OUTBOUND_MAX_ATTEMPTS,
      backoffMs: (attempt) => Math.min(250 * 2 ** (attempt - 1), 10_000),
      sendWindowMs: SEND_WINDOW_MS,
      signal: stopping.signal,
      onRetry: (attempt, failure) => logger.info({ conversationId: message.conversationId, attempt, code: failure.code }, 'outbound mail refused for now; retrying'),
    });
    await settle(message, outcome, conversation, mail.messageId);
  };

  /** Everything after the send runs again on a redelivery that finds the mail already sent. */
  const settle = async (message: OutboundMessage, outcome: DeliveryOutcome, conversation: EmailConversation | undefined, messageId: string) => {
    const where = { conversationId: message.conversationId, outboundMessageId: message.messageId };
    if (outcome.kind === 'sent') {
      if (conversation) await store.addMessage(message.conversationId, messageId);
      if (!outcome.repeated) sent.inc({ outcome: 'sent' });
      else sent.inc({ outcome: 'already_sent' });
      await report(message, { delivered: true });
    } else if (outcome.kind === 'uncertain') {
      if (!outcome.repeated) {
        sent.inc({ outcome: 'uncertain' });
        logger.warn(where, 'outbound mail may or may not have been delivered; not sent again');
      }
      await report(message, { delivered: false, permanent: true, uncertain: true, errorCode: outcome.code, detail: outcome.detail });
    } else {
      if (!outcome.repeated) {
        sent.inc({ outcome: outcome.permanent ? 'failed_permanently' : 'gave_up' });
        logger.warn({ ...where, code: outcome.code }, 'outbound mail not delivered');
      }
      await report(message, { delivered: false, permanent: outcome.permanent, errorCode: outcome.code, detail: outcome.detail });
    }
  };

  return {
    handler,
    /** No new attempt starts after this: a mail waiting for its next try is left for a later delivery. */
    stopRetrying: () => stopping.abort(),
    close: () => transporter.close(),
  };
}

function composeMail(message: OutboundMessage, to: string, conversation: EmailConversation | undefined, thread: string[], config: EmailConfig) {
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
function composeCodeMail(message: OutboundMessage, to: string, config: EmailConfig) {
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
