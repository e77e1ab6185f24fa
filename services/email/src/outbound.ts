// Outbound mail: replies and notifications for email conversations. Each outbound message is
// claimed in the store before it is handed to the server, so it is mailed at most once, and
// what became of it is reported on the conversation.
import type { Transporter } from 'nodemailer';
import type { Counter, Registry } from 'prom-client';
import { deliverOnce, reportOf, unsentOutcome, type DeliveryOutcome, type DeliveryReport } from '#libs/delivery';
import { backoffMs, type BackoffOptions } from '#libs/faults';
import { InvalidEventError, topics, type ConsumedEvent, type EventProducer } from '#libs/kafka';
import { sharedCounter, type Logger } from '#libs/observability';
import { Channel, IdentityKind, OutboundKind, type OutboundMessage } from '#libs/proto';
import { surveySentOf } from '#libs/survey';
import { inSpan, SpanKind } from '#libs/tracing';
import type { EmailConfig } from './config';
import { deliveryReported } from './messages';
import { composeCodeMail, composeMail, MAILED } from './outbound-mail';
import { classifySmtpFailure, createMailTransport, SEND_WINDOW_MS } from './smtp-transport';
import { replyFiles, storedHash } from './reply-files';
import { surveyLink, surveyMailText } from './survey-link';
import type { EmailConversation, EmailStore } from './store';

export interface OutboundDeps {
  config: EmailConfig;
  store: EmailStore;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  transporter?: Transporter;
  /** The waits between attempts of one send; by default RETRY_BACKOFF. */
  backoff?: BackoffOptions;
}

/** Between attempts of one send: 250 ms doubling up to 10 s, OUTBOUND_MAX_ATTEMPTS in all. */
const RETRY_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 10_000, jitter: 0 };

const SMTP_SEND = { 'network.protocol.name': 'smtp' };

export function createOutboundHandler(deps: OutboundDeps) {
  const outbound = new EmailOutbound(deps);
  return {
    handler: ({ value }: ConsumedEvent<OutboundMessage>) => outbound.handle(value),
    /** No new attempt starts after this: a mail waiting for its next try is left for a later delivery. */
    stopRetrying: () => outbound.stopping.abort(),
    close: () => outbound.transporter.close(),
  };
}

class EmailOutbound {
  readonly transporter: Transporter;
  readonly stopping = new AbortController();
  private readonly counted: Counter<'outcome'>;

  constructor(private readonly deps: OutboundDeps) {
    this.transporter = deps.transporter ?? createMailTransport(deps.config);
    this.counted = sharedCounter(deps.metrics, {
      name: 'cc_email_outbound_total',
      help: 'Outbound mail by outcome (sent, already_sent, failed_permanently, gave_up, uncertain, no_recipient)',
      labelNames: ['outcome'],
    });
  }

  async handle(message: OutboundMessage): Promise<void> {
    if (message.channel !== Channel.CHANNEL_EMAIL || !MAILED.has(message.kind)) return;
    if (!message.messageId)
      throw new InvalidEventError(`outbound message for conversation ${message.conversationId} has no message_id, so it cannot be sent once`);
    const { config, store, logger } = this.deps;
    // A verification code (asked for in another channel) goes to the address it proves and
    // nowhere else: no email conversation is looked up, threaded or written.
    const code = message.kind === OutboundKind.OUTBOUND_KIND_VERIFICATION_CODE;
    const [conversation, thread] = code
      ? [undefined, []]
      : await Promise.all([store.conversation(message.conversationId), store.threadOf(message.conversationId)]);
    const to = message.recipient?.kind === IdentityKind.IDENTITY_KIND_EMAIL ? message.recipient.value : conversation?.customerAddress;
    if (!to) {
      this.counted.inc({ outcome: 'no_recipient' });
      return this.report(message, { delivered: false, permanent: true, code: 'NO_RECIPIENT', detail: 'no email address for this conversation' });
    }
    const mailed = message.kind === OutboundKind.OUTBOUND_KIND_SURVEY ? await this.surveyMail(message) : message;
    const composed = code ? composeCodeMail(message, to, config) : composeMail(mailed, to, conversation, thread, config);
    // Loaded before the claim: a missing file dead-letters the message, a failing store retries it.
    const files = await replyFiles(message.attachments, (sha256) => store.attachment(sha256), config.EMAIL_REPLY_ATTACHMENTS_MAX_BYTES);
    // The conversation now uses its files: an erasure of it deletes those no other conversation uses.
    await Promise.all(message.attachments.map((a) => store.attachmentUsed(storedHash(a.storageRef)!, message.conversationId)));
    const mail = files.length ? { ...composed, attachments: files } : composed;
    // Stopping between attempts throws DeliveryInterruptedError, a RetryLaterError: left for later.
    const outcome = await deliverOnce({
      id: message.messageId,
      claims: store.deliveries,
      send: () =>
        inSpan('smtp send', { kind: SpanKind.CLIENT, attributes: SMTP_SEND }, async () => (await this.transporter.sendMail(mail)).messageId || mail.messageId),
      classify: classifySmtpFailure,
      maxAttempts: config.OUTBOUND_MAX_ATTEMPTS,
      backoffMs: (attempt) => backoffMs(attempt, this.deps.backoff ?? RETRY_BACKOFF),
      sendWindowMs: SEND_WINDOW_MS,
      signal: this.stopping.signal,
      onRetry: (attempt, failure) =>
        logger.info({ conversationId: message.conversationId, attempt, code: failure.code }, 'outbound mail refused for now; retrying'),
    });
    await this.settle(message, outcome, conversation, mail.messageId);
  }

  /**
   * The survey is remembered before it goes out, so the quickest answer finds it; its mail
   * carries a signed link per score when EMAIL_SURVEY_LINK_KEY is set.
   */
  private async surveyMail(message: OutboundMessage): Promise<OutboundMessage> {
    const { config, store } = this.deps;
    const survey = surveySentOf(message, new Date());
    await store.surveys.sent(survey);
    const key = config.EMAIL_SURVEY_LINK_KEY;
    const expiresAt = new Date(survey.sentAt.getTime() + config.EMAIL_SURVEY_WINDOW_MS);
    const links = key
      ? [1, 2, 3, 4, 5].map((score) => surveyLink(config.EMAIL_SURVEY_BASE_URL, key, { conversationId: message.conversationId, score, expiresAt }))
      : [];
    return { ...message, text: surveyMailText(message.text, links) };
  }

  /** Everything after the send runs again on a redelivery that finds the mail already sent. */
  private async settle(message: OutboundMessage, outcome: DeliveryOutcome, conversation: EmailConversation | undefined, messageId: string): Promise<void> {
    const where = { conversationId: message.conversationId, outboundMessageId: message.messageId };
    if (outcome.kind === 'sent') {
      if (conversation) await this.deps.store.addMessage(message.conversationId, messageId);
      this.counted.inc({ outcome: outcome.repeated ? 'already_sent' : 'sent' });
    } else if (!outcome.repeated) {
      this.counted.inc({ outcome: unsentOutcome(outcome) });
      if (outcome.kind === 'uncertain') this.deps.logger.warn(where, 'outbound mail may or may not have been delivered; not sent again');
      else this.deps.logger.warn({ ...where, code: outcome.code }, 'outbound mail not delivered');
    }
    await this.report(message, reportOf(outcome));
  }

  private async report(message: OutboundMessage, report: DeliveryReport): Promise<void> {
    const event = deliveryReported(message, report, new Date());
    await this.deps.producer.publish(topics.conversationEvents, message.conversationId, event, { id: event.eventId });
  }
}
