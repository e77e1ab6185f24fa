// Receiving one mail over SMTP: read, parsed within the limits, threaded, published. The reply is
// 250 only after Kafka acknowledged the contact (smtp-server.ts answers the failures).
import type { Calendars } from '#libs/calendars';
import type { Readable } from 'node:stream';
import { simpleParser } from 'mailparser';
import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { newConversationReference } from '#libs/contact';
import type { Registry } from 'prom-client';
import { topics, type EventProducer } from '#libs/kafka';
import { errorDetails, type Logger } from '#libs/observability';
import { senderVerdictToJSON, type ConversationSenderCheck, type OutboundMessage, type SenderAuthentication } from '#libs/proto';
import type { EmailConfig } from './config';
import type { DnsLookup } from './dns';
import { checkHeaderSection, MailLimitError } from './mail-limits';
import { acknowledgement, contactReceived } from './messages';
import { contactIdFor, normaliseMail, type NormalisedMail } from './normalise';
import { MailRefusal, UnparsableMailError } from './refusals';
import { checkSender, type SmtpClient } from './sender-check';
import { conversationSenderOf, shouldAcknowledge } from './sender-policy';
import type { EmailStore } from './store';
import { mailSurveyAnswer } from './survey-answers';
import { decideThread, type ThreadDecision } from './threading';

export interface InboundDeps {
  config: EmailConfig;
  store: EmailStore;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  now?: () => Date;
  /** The DNS the sender checks ask; by default the configured servers (EMAIL_DNS_SERVERS). */
  dns?: DnsLookup;
  /** The queues' opening hours, held in memory so the SMTP path asks no store; absent: the acknowledgement does not say whether we are open. */
  calendars?: Calendars;
}

/**
 * The queue a new mail enters before routing classifies it: the front office's default skill.
 * Its calendar words the acknowledgement; routing's status mail follows when the classified
 * queue keeps other hours.
 */
const ACK_QUEUE = 'tier1/general/email';

/** What receiving one mail needs besides the session. */
export interface Receiving extends InboundDeps {
  now: () => Date;
  dns: DnsLookup;
  verdicts: { inc(labels: { verdict: string }): void };
}

async function readAll(stream: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** One mail, from DATA to Kafka: "accepted" or "automated", or a refusal for the SMTP reply. */
export async function receive(stream: SMTPServerDataStream, session: SMTPServerSession, deps: Receiving): Promise<'accepted' | 'automated'> {
  const raw = await readAll(stream);
  if (stream.sizeExceeded) throw new MailLimitError(`Message too big; the limit is ${deps.config.SMTP_MAX_MESSAGE_BYTES} bytes`);
  const { mail, contents } = await parseMail(raw, session, deps.config);
  const received: Received = {
    mail,
    contents,
    contactId: contactIdFor(mail, raw),
    recipient: session.envelope.rcptTo[0]?.address.toLowerCase() ?? '',
    receivedAt: deps.now(),
    // The sender is checked while the thread index is asked; neither needs the other.
    authenticated: authenticateSender(raw, mail, session, deps),
  };
  if (mail.automatedReason) return receiveAutomated(received, deps);
  return receiveFromPerson(received, deps);
}

interface Received {
  mail: NormalisedMail;
  contents: Buffer[];
  contactId: string;
  recipient: string;
  receivedAt: Date;
  authenticated: Promise<SenderAuthentication>;
}

/** Recorded on the conversation it answers, if any; it never opens one and is never answered. */
async function receiveAutomated({ mail, contactId, recipient, receivedAt, authenticated }: Received, { store, producer }: Receiving): Promise<'automated'> {
  const thread = await decideThread(mail, store, (id) => store.referenceOf(id));
  const conversationId = thread.isNew ? '' : thread.conversationId;
  const authentication = await authenticated;
  const conversationSender = thread.isNew ? undefined : await senderCheck(thread, mail, authentication, store);
  const ids = { contactId, conversationId, newConversation: false, reference: conversationId ? thread.reference : '' };
  const event = contactReceived(mail, ids, recipient, [], receivedAt, { authentication, conversationSender });
  await producer.publish(topics.contactInbound, conversationId || contactId, event, { id: contactId });
  return 'automated';
}

async function receiveFromPerson({ mail, contents, contactId, recipient, receivedAt, authenticated }: Received, deps: Receiving): Promise<'accepted'> {
  const { config, store, producer } = deps;
  // The Message-ID is recorded before publishing, so a retry of this mail lands on the same conversation.
  const thread = await openOrFind(mail, store, receivedAt);
  // The survey's answer is taken instead of a message; a second answer stays a message, so
  // what the customer wrote reaches an agent rather than being dropped.
  if (!thread.isNew && (await mailSurveyAnswer(deps, mail, thread.conversationId, contactId, receivedAt)) === 'answered') return 'accepted';
  const [refs, authentication] = await Promise.all([
    Promise.all(mail.attachments.map((a, i) => store.storeAttachment(a.sha256, a.contentType, contents[i]!, thread.conversationId))),
    authenticated,
  ]);
  const conversationSender = thread.isNew ? undefined : await senderCheck(thread, mail, authentication, store);
  const ids = { contactId, conversationId: thread.conversationId, newConversation: thread.isNew, reference: thread.reference };
  // It goes to the From address, so only to one the sender checks let through (no backscatter).
  const acknowledge = thread.isNew && shouldAcknowledge(authentication.verdict, config.EMAIL_ACK_SENDERS);
  if (thread.isNew && !acknowledge) {
    deps.logger.info(
      { conversationId: thread.conversationId, verdict: senderVerdictToJSON(authentication.verdict) },
      'no acknowledgement: the sender is not authenticated',
    );
  }
  const ack = acknowledge ? acknowledgementOf(deps, thread, mail, receivedAt) : undefined;
  // The contact says what the acknowledgement told of the opening, so routing does not say it twice.
  const event = contactReceived(mail, ids, recipient, refs, receivedAt, { authentication, conversationSender, acknowledgedClosedUntil: ack?.closedUntil });
  const contactWritten = producer.publish(topics.contactInbound, thread.conversationId, event, { id: contactId });
  // The acknowledgement is queued alongside the contact, not after it: the sender waits for one
  // Kafka round trip, not two. Should the contact fail, the 451 brings a retry that finds this
  // conversation again and queues the same acknowledgement (same id, so it is sent once).
  const ackQueued = ack ? queueAcknowledgement(deps, thread.conversationId, ack) : Promise.resolve();
  await Promise.all([contactWritten, ackQueued]);
  return 'accepted';
}

/** The mail parsed and normalised within the limits, or the refusal of it. */
async function parseMail(raw: Buffer, session: SMTPServerSession, config: EmailConfig): Promise<{ mail: NormalisedMail; contents: Buffer[] }> {
  let mail: NormalisedMail;
  let contents: Buffer[];
  try {
    checkHeaderSection(raw, config.SMTP_MAX_HEADER_BYTES);
    const parsed = await simpleParser(raw, { skipHtmlToText: true, skipTextToHtml: true, skipTextLinks: true });
    mail = normaliseMail(parsed, envelopeSender(session), { maxReferences: config.SMTP_MAX_REFERENCES });
    contents = parsed.attachments.map((a) => a.content);
  } catch (err) {
    if (err instanceof MailRefusal) throw err;
    throw new UnparsableMailError(err instanceof Error ? err.message : String(err));
  }
  if (mail.attachments.length > config.SMTP_MAX_ATTACHMENTS) {
    throw new MailLimitError(`Too many attachments (${mail.attachments.length}); the limit is ${config.SMTP_MAX_ATTACHMENTS}`);
  }
  const tooBig = mail.attachments.find((a) => a.sizeBytes > config.SMTP_MAX_ATTACHMENT_BYTES);
  if (tooBig) throw new MailLimitError(`Attachment "${tooBig.name}" is too big; the limit is ${config.SMTP_MAX_ATTACHMENT_BYTES} bytes`);
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
  if (problem)
    deps.logger.warn(
      { problem: problem.name, code: (problem.cause as { code?: string } | undefined)?.code },
      'sender check incomplete; taken as temporary, not as a pass',
    );
  deps.verdicts.inc({ verdict: senderVerdictToJSON(authentication.verdict).replace('SENDER_VERDICT_', '').toLowerCase() });
  return authentication;
}

/** Whether a mail that joined a conversation came from its customer. */
async function senderCheck(
  thread: ThreadDecision,
  mail: NormalisedMail,
  authentication: SenderAuthentication,
  store: EmailStore,
): Promise<ConversationSenderCheck> {
  const conversation = await store.conversation(thread.conversationId);
  const result = conversationSenderOf({
    joinsExisting: true,
    customerAddresses: conversation ? [conversation.customerAddress] : [],
    senderAddress: mail.senderAddress,
    verdict: authentication.verdict,
  });
  return { result, joinedBy: thread.how };
}

function acknowledgementOf(deps: InboundDeps, thread: ThreadDecision, mail: NormalisedMail, receivedAt: Date): OutboundMessage {
  const hours = deps.calendars?.of(ACK_QUEUE) ? deps.calendars.status(ACK_QUEUE, receivedAt.getTime()) : undefined;
  return acknowledgement(thread, mail, deps.config.EMAIL_SLA_MS, receivedAt, hours);
}

function queueAcknowledgement(deps: InboundDeps, conversationId: string, ack: OutboundMessage): Promise<unknown> {
  return deps.producer.publish(topics.outbound, conversationId, ack, { id: ack.messageId }).catch((err: unknown) => {
    // Routing keeps quiet about an opening the acknowledgement tells: that one must reach the
    // customer, so its loss answers 451 and the sender's retry queues it again (same id).
    if (ack.closedUntil) throw err;
    // Otherwise the contact is what must not be lost; a missing courtesy mail is said loudly, not retried here.
    deps.logger.error({ conversationId, ...errorDetails(err) }, 'acknowledgement could not be queued');
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
