// Inbound SMTP: accepts mail for the support addresses only, and answers 250 only after Kafka
// acknowledged the contact; 451 when it did not, so the sending server tries again.
import { readFileSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import { SMTPServer, type SMTPServerAddress, type SMTPServerDataStream, type SMTPServerSession } from 'smtp-server';
import { newConversationReference } from '../../../libs/contact';
import { KafkaUnavailableError, topics, type EventProducer } from '../../../libs/kafka';
import { errorDetails, sharedCounter, type Logger } from '../../../libs/observability';
import type { Registry } from 'prom-client';
import type { EmailConfig } from './config';
import { acknowledgement, contactReceived } from './messages';
import { contactIdFor, normaliseMail, UnusableMailError, type NormalisedMail } from './normalise';
import { RateLimiter } from '../../../libs/rate-limit';
import { senderVerdictToJSON, type ConversationSenderCheck, type SenderAuthentication } from '../../../libs/proto';
import { OpenConnections } from './connection-limits';
import { dnsLookupFor, type DnsLookup } from './dns';
import { checkHeaderSection, MailLimitError } from './mail-limits';
import { checkSender, type SmtpClient } from './sender-check';
import { conversationSenderOf, shouldAcknowledge } from './sender-policy';
import type { EmailStore } from './store';
import { decideThread, type ThreadDecision } from './threading';

/** An SMTP reply other than 250, with its code. */
export class SmtpReply extends Error {
  constructor(
    readonly responseCode: number,
    message: string,
  ) {
    super(message);
    this.name = 'SmtpReply';
  }
}

export interface InboundDeps {
  config: EmailConfig;
  store: EmailStore;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  now?: () => Date;
  /** The DNS the sender checks ask; by default the configured servers (EMAIL_DNS_SERVERS). */
  dns?: DnsLookup;
}

/** What receiving one mail needs besides the session. */
interface Receiving extends InboundDeps {
  now: () => Date;
  dns: DnsLookup;
  verdicts: { inc(labels: { verdict: string }): void };
}

export function isSupportRecipient(address: string, config: Pick<EmailConfig, 'SUPPORT_ADDRESSES' | 'SUPPORT_DOMAINS'>): boolean {
  const a = address.trim().toLowerCase();
  const domain = a.slice(a.lastIndexOf('@') + 1);
  return config.SUPPORT_ADDRESSES.includes(a) || (a.includes('@') && config.SUPPORT_DOMAINS.includes(domain));
}

export function createSmtpServer(deps: InboundDeps): SMTPServer {
  const { config, logger } = deps;
  const now = deps.now ?? (() => new Date());
  const perIp = new RateLimiter(config.SMTP_RATE_PER_IP, 60_000);
  const perSender = new RateLimiter(config.SMTP_RATE_PER_SENDER, 60_000);
  const open = new OpenConnections(config.SMTP_MAX_CLIENTS_PER_IP);
  const received = sharedCounter(deps.metrics, {
    name: 'cc_email_inbound_total',
    help: 'Inbound mail by outcome (accepted, automated, refused_*, deferred_kafka)',
    labelNames: ['outcome'],
  });
  const verdicts = sharedCounter(deps.metrics, {
    name: 'cc_email_sender_verdict_total',
    help: 'Inbound mail by the verdict on its From address (pass, fail, none, temporary)',
    labelNames: ['verdict'],
  });
  const receiving: Receiving = { ...deps, now, dns: deps.dns ?? dnsLookupFor(config), verdicts };
  const tls = config.SMTP_TLS_CERT_FILE && config.SMTP_TLS_KEY_FILE;

  return new SMTPServer({
    name: config.SMTP_HOSTNAME,
    banner: 'contact centre mail exchanger',
    size: config.SMTP_MAX_MESSAGE_BYTES,
    authOptional: true,
    disabledCommands: tls ? ['AUTH'] : ['AUTH', 'STARTTLS'],
    hideSTARTTLS: !tls,
    ...(tls ? { key: readFileSync(config.SMTP_TLS_KEY_FILE!), cert: readFileSync(config.SMTP_TLS_CERT_FILE!) } : {}),
    logger: false,
    // Over this many open connections, smtp-server itself greets with 421 "Too many connected clients".
    maxClients: config.SMTP_MAX_CLIENTS,
    // The client's name from reverse DNS is not used; its look-up would only hold up the greeting.
    disableReverseLookup: true,
    onConnect(session, callback) {
      if (open.openFrom(session.remoteAddress) >= config.SMTP_MAX_CLIENTS_PER_IP) {
        received.inc({ outcome: 'refused_concurrent_ip' });
        return callback(new SmtpReply(421, `4.7.0 Too many open connections from your address (the limit is ${config.SMTP_MAX_CLIENTS_PER_IP}); try again later`));
      }
      if (!perIp.take(session.remoteAddress, Date.now())) {
        received.inc({ outcome: 'refused_rate_ip' });
        return callback(new SmtpReply(421, '4.7.0 Too many connections from your address; try again later'));
      }
      open.admit(session.id, session.remoteAddress);
      callback();
    },
    onClose(session) {
      open.release(session.id);
    },
    onMailFrom(address, _session, callback) {
      const sender = address.address.toLowerCase();
      if (sender && !perSender.take(sender, Date.now())) {
        received.inc({ outcome: 'refused_rate_sender' });
        return callback(new SmtpReply(450, '4.7.1 Too many messages from this sender; try again later'));
      }
      callback();
    },
    onRcptTo(address, _session, callback) {
      if (!isSupportRecipient(address.address, config)) {
        received.inc({ outcome: 'refused_relay' });
        return callback(new SmtpReply(550, `5.7.1 <${address.address}>: relay access denied, this server only receives mail for its own addresses`));
      }
      callback();
    },
    onData(stream, session, callback) {
      receive(stream, session, receiving).then(
        (outcome) => {
          received.inc({ outcome });
          callback(null);
        },
        (err: unknown) => {
          if (err instanceof SmtpReply) {
            received.inc({ outcome: `refused_${err.responseCode}` });
            return callback(err);
          }
          if (err instanceof KafkaUnavailableError) {
            received.inc({ outcome: 'deferred_kafka' });
            logger.warn(errorDetails(err), 'mail deferred: Kafka did not acknowledge');
            return callback(new SmtpReply(451, '4.3.0 Temporarily unable to accept the message; please try again later'));
          }
          received.inc({ outcome: 'deferred_error' });
          logger.error(errorDetails(err), 'mail deferred after an unexpected error');
          callback(new SmtpReply(451, '4.3.0 Temporary local problem; please try again later'));
        },
      );
    },
  });
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function receive(stream: SMTPServerDataStream, session: SMTPServerSession, deps: Receiving): Promise<string> {
  const { config, store, producer } = deps;
  const raw = await readAll(stream);
  if (stream.sizeExceeded) throw new SmtpReply(552, `5.3.4 Message too big; the limit is ${config.SMTP_MAX_MESSAGE_BYTES} bytes`);
  const { mail, contents } = await parseMail(raw, session, config);

  const contactId = contactIdFor(mail, raw);
  const recipient = session.envelope.rcptTo[0]?.address.toLowerCase() ?? '';
  const receivedAt = deps.now();
  // The sender is checked while the thread index is asked; neither needs the other.
  const authenticated = authenticateSender(raw, mail, session, deps);

  if (mail.automatedReason) {
    // Recorded on the conversation it answers, if any; it never opens one and is never answered.
    const thread = await decideThread(mail, store, (id) => store.referenceOf(id));
    const conversationId = thread.isNew ? '' : thread.conversationId;
    const authentication = await authenticated;
    const conversationSender = thread.isNew ? undefined : await senderCheck(thread, mail, authentication, store);
    const ids = { contactId, conversationId, newConversation: false, reference: conversationId ? thread.reference : '' };
    const event = contactReceived(mail, ids, recipient, [], receivedAt, { authentication, conversationSender });
    await producer.publish(topics.contactInbound, conversationId || contactId, event, { id: contactId });
    return 'automated';
  }

  // The Message-ID is recorded before publishing, so a retry of this mail lands on the same conversation.
  const thread = await openOrFind(mail, store, receivedAt);
  const [refs, authentication] = await Promise.all([
    Promise.all(mail.attachments.map((a, i) => store.storeAttachment(a.sha256, a.contentType, contents[i]!))),
    authenticated,
  ]);
  const conversationSender = thread.isNew ? undefined : await senderCheck(thread, mail, authentication, store);
  const ids = { contactId, conversationId: thread.conversationId, newConversation: thread.isNew, reference: thread.reference };
  const event = contactReceived(mail, ids, recipient, refs, receivedAt, { authentication, conversationSender });
  const contactWritten = producer.publish(topics.contactInbound, thread.conversationId, event, { id: contactId });
  // The acknowledgement is queued alongside the contact, not after it: the sender waits for one
  // Kafka round trip, not two. Should the contact fail, the 451 brings a retry that finds this
  // conversation again and queues the same acknowledgement (same id, so it is sent once).
  // It goes to the From address, so only to one the sender checks let through (no backscatter).
  const acknowledge = thread.isNew && shouldAcknowledge(authentication.verdict, config.EMAIL_ACK_SENDERS);
  if (thread.isNew && !acknowledge) {
    deps.logger.info({ conversationId: thread.conversationId, verdict: senderVerdictToJSON(authentication.verdict) }, 'no acknowledgement: the sender is not authenticated');
  }
  const ackQueued = acknowledge ? queueAcknowledgement(deps, thread, mail, receivedAt) : Promise.resolve();
  await Promise.all([contactWritten, ackQueued]);
  return 'accepted';
}

/** The mail parsed and normalised within the limits, or the SMTP reply that refuses it. */
async function parseMail(raw: Buffer, session: SMTPServerSession, config: EmailConfig): Promise<{ mail: NormalisedMail; contents: Buffer[] }> {
  let mail: NormalisedMail;
  let contents: Buffer[];
  try {
    checkHeaderSection(raw, config.SMTP_MAX_HEADER_BYTES);
    const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
    mail = normaliseMail(parsed, envelopeSender(session), { maxReferences: config.SMTP_MAX_REFERENCES });
    contents = parsed.attachments.map((a) => a.content);
  } catch (err) {
    if (err instanceof MailLimitError) throw new SmtpReply(552, `5.3.4 ${err.message}`);
    if (err instanceof UnusableMailError) throw new SmtpReply(550, `5.6.0 ${err.message}`);
    throw new SmtpReply(554, `5.6.0 The message could not be parsed: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (mail.attachments.length > config.SMTP_MAX_ATTACHMENTS) {
    throw new SmtpReply(552, `5.3.4 Too many attachments (${mail.attachments.length}); the limit is ${config.SMTP_MAX_ATTACHMENTS}`);
  }
  const tooBig = mail.attachments.find((a) => a.sizeBytes > config.SMTP_MAX_ATTACHMENT_BYTES);
  if (tooBig) throw new SmtpReply(552, `5.3.4 Attachment "${tooBig.name}" is too big; the limit is ${config.SMTP_MAX_ATTACHMENT_BYTES} bytes`);
  return { mail, contents };
}

function envelopeSender(session: SMTPServerSession): string | false {
  return session.envelope.mailFrom ? (session.envelope.mailFrom as SMTPServerAddress).address : false;
}

/** SPF, DKIM and DMARC for the address the contact carries. Never rejects: a failure is a temporary verdict. */
async function authenticateSender(raw: Buffer, mail: NormalisedMail, session: SMTPServerSession, deps: Receiving): Promise<SenderAuthentication> {
  const client: SmtpClient = { ip: session.remoteAddress, helo: session.hostNameAppearsAs ?? '', mailFrom: envelopeSender(session) || '' };
  const { authentication, problem } = await checkSender(raw, mail.senderAddress, client, {
    lookup: deps.dns,
    mta: deps.config.SMTP_HOSTNAME,
    timeoutMs: deps.config.EMAIL_AUTH_TIMEOUT_MS,
  });
  // No addresses or domains in the log: the problem's kind and the resolver's code say enough.
  if (problem) deps.logger.warn({ problem: problem.name, code: (problem.cause as { code?: string } | undefined)?.code }, 'sender check incomplete; taken as temporary, not as a pass');
  deps.verdicts.inc({ verdict: senderVerdictToJSON(authentication.verdict).replace('SENDER_VERDICT_', '').toLowerCase() });
  return authentication;
}

/** Whether a mail that joined a conversation came from its customer. */
async function senderCheck(thread: ThreadDecision, mail: NormalisedMail, authentication: SenderAuthentication, store: EmailStore): Promise<ConversationSenderCheck> {
  const conversation = await store.conversation(thread.conversationId);
  const result = conversationSenderOf({
    joinsExisting: true,
    customerAddresses: conversation ? [conversation.customerAddress] : [],
    senderAddress: mail.senderAddress,
    verdict: authentication.verdict,
  });
  return { result, joinedBy: thread.how };
}

function queueAcknowledgement(deps: InboundDeps, thread: ThreadDecision, mail: NormalisedMail, receivedAt: Date): Promise<unknown> {
  const ack = acknowledgement(thread, mail, deps.config.EMAIL_SLA_MS, receivedAt);
  return deps.producer.publish(topics.outbound, thread.conversationId, ack, { id: ack.messageId }).catch((err: unknown) => {
    // The contact is what must not be lost; a missing courtesy mail is said loudly, not retried here.
    deps.logger.error({ conversationId: thread.conversationId, ...errorDetails(err) }, 'acknowledgement could not be queued');
  });
}

/** The conversation this mail belongs to; a new one (with a fresh, unique reference) if none. */
async function openOrFind(mail: NormalisedMail, store: EmailStore, at: Date): Promise<ThreadDecision> {
  let thread = await decideThread(mail, store, (id) => store.referenceOf(id));
  if (thread.how === 'message-id') {
    // The same mail again: it opened the conversation if it was the first of it.
    const conversation = await store.conversation(thread.conversationId);
    if (conversation) return { ...thread, isNew: conversation.openingMessageId === mail.messageId };
    // The first try recorded the Message-ID but failed before its conversation was written.
    thread = { ...thread, reference: newConversationReference(), isNew: true, how: 'new' };
  }
  if (!thread.isNew) {
    await store.addMessage(thread.conversationId, mail.messageId);
    return thread;
  }
  for (let attempt = 0; attempt < 5; attempt++) {
    const reference = attempt === 0 ? thread.reference : newConversationReference();
    // The Message-ID is recorded alongside the conversation, not after it: the conversation id
    // stays the same whichever reference wins, so the record is right either way.
    const [created] = await Promise.all([
      store.createConversation({
        _id: thread.conversationId,
        reference,
        customerAddress: mail.senderAddress,
        subject: mail.subject,
        openingMessageId: mail.messageId,
        createdAt: at,
      }),
      attempt === 0 ? store.addMessage(thread.conversationId, mail.messageId) : undefined,
    ]);
    if (created) return { ...thread, reference };
  }
  throw new Error('could not find a free conversation reference after 5 attempts');
}
