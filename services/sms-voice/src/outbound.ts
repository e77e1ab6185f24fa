// Outbound SMS through the real twilio client, and bridging queued calls to agents. Each SMS
// part and each bridge is claimed in the store before it is handed to Twilio, so it is made at
// most once: Twilio's REST API has no idempotency key of its own.
import twilio from 'twilio';
import type RequestClientType from 'twilio/lib/base/RequestClient';
import type { Registry } from 'prom-client';
import { eventId } from '../../../libs/contact';
import { deliverOnce, type DeliveryOutcome, type SendFailure } from '../../../libs/delivery';
import { InvalidEventError, topics, type ConsumedEvent, type EventProducer } from '../../../libs/kafka';
import { sharedCounter, type Logger } from '../../../libs/observability';
import { Channel, ConversationEvent, IdentityKind, OutboundKind, type OutboundMessage } from '../../../libs/proto';
import type { SmsVoiceConfig } from './config';
import { splitBody } from './sms';
import type { SmsVoiceStore } from './store';

const TEXTED = new Set([
  OutboundKind.OUTBOUND_KIND_REPLY,
  OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT,
  OutboundKind.OUTBOUND_KIND_STATUS_UPDATE,
  OutboundKind.OUTBOUND_KIND_CONVERSATION_ENDED,
  OutboundKind.OUTBOUND_KIND_SURVEY,
]);

/** A twilio client whose REST calls go to `apiBaseUrl` (Twilio itself, or a local stand-in in tests). */
export function createTwilioClient(config: Pick<SmsVoiceConfig, 'TWILIO_ACCOUNT_SID' | 'TWILIO_AUTH_TOKEN' | 'TWILIO_API_BASE_URL'>) {
  const base = config.TWILIO_API_BASE_URL.replace(/\/$/, '');
  class RebasedRequestClient extends twilio.RequestClient {
    override request<T>(opts: RequestClientType.RequestOptions<T>) {
      return super.request<T>({ ...opts, uri: opts.uri.replace(/^https:\/\/api\.twilio\.com/, base) });
    }
  }
  return twilio(config.TWILIO_ACCOUNT_SID, config.TWILIO_AUTH_TOKEN, { httpClient: new RebasedRequestClient({ timeout: TWILIO_TIMEOUT_MS }) });
}

/**
 * One REST call to Twilio takes at most TWILIO_TIMEOUT_MS; another delivery waits on a part
 * still "sending" for SEND_WINDOW_MS before calling it uncertain (above the timeout).
 */
export const TWILIO_TIMEOUT_MS = 15_000;
export const SEND_WINDOW_MS = 60_000;

/** Errors of a request that never reached Twilio: nothing can have been created. */
const NEVER_CONNECTED = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH']);

/**
 * What a failed messages.create proves. An HTTP answer from Twilio created nothing: 429 and
 * 5xx may pass later, other 4xx are final. A request that never connected sent nothing. A
 * timeout or a connection cut after the request went out may have created the message.
 */
export function classifyTwilioFailure(err: unknown): SendFailure {
  const e = err as { status?: number; code?: number | string; message?: string; syscall?: string };
  const detail = e.message ?? String(err);
  if (typeof e.status === 'number' && e.status >= 400) {
    const code = String(e.code ?? e.status);
    return { kind: e.status === 429 || e.status >= 500 ? 'refused-temporarily' : 'refused-permanently', code, detail };
  }
  const code = typeof e.code === 'string' ? e.code : 'ERROR';
  if (NEVER_CONNECTED.has(code) || e.syscall === 'connect') return { kind: 'refused-temporarily', code, detail };
  return { kind: 'uncertain', code, detail };
}

export interface SmsOutboundDeps {
  config: SmsVoiceConfig;
  store: SmsVoiceStore;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  /** Aborted when the service stops: an SMS waiting for its next try is left for a later delivery. */
  signal?: AbortSignal;
}

export function createOutboundHandler(deps: SmsOutboundDeps) {
  const { config, store, producer, logger } = deps;
  const client = createTwilioClient(config);
  const base = config.PUBLIC_BASE_URL.replace(/\/$/, '');
  const sent = sharedCounter(deps.metrics, { name: 'cc_sms_outbound_total', help: 'Outbound SMS and call bridging by outcome', labelNames: ['outcome'] });

  const report = async (message: OutboundMessage, outcome: ReportedOutcome, sid = '') => {
    const event = ConversationEvent.fromPartial({
      eventId: eventId('sms-voice', 'sms-out', message.messageId, outcome.delivered ? 'sent' : outcome.uncertain ? 'uncertain' : 'failed'),
      conversationId: message.conversationId,
      occurredAt: new Date(),
      channel: message.channel,
      reason: outcome.delivered ? { code: 'delivery.queued', text: `accepted by Twilio as ${sid}` } : { code: failureReasonCode(outcome), text: outcome.detail ?? '' },
      step: {
        $case: 'deliveryReported',
        deliveryReported: { outboundMessageId: message.messageId, delivered: outcome.delivered, errorCode: outcome.code ?? '', detail: outcome.detail ?? '', permanent: outcome.permanent ?? false },
      },
    });
    await producer.publish(topics.conversationEvents, message.conversationId, event, { id: event.eventId });
  };

  const sendSms = async (message: OutboundMessage) => {
    const numbers = await store.numbersOf(message.conversationId);
    const to = message.recipient?.kind === IdentityKind.IDENTITY_KIND_PHONE ? message.recipient.value : numbers?.customer;
    if (!to || !numbers) {
      sent.inc({ outcome: 'no_recipient' });
      return report(message, { delivered: false, permanent: true, code: 'NO_RECIPIENT', detail: 'no phone numbers known for this conversation' });
    }
    if (await store.isOptedOut(to)) {
      sent.inc({ outcome: 'opted_out' });
      return report(message, { delivered: false, permanent: true, code: 'OPTED_OUT', detail: 'the customer replied STOP; no SMS may be sent until START' });
    }
    const parts = splitBody(message.text);
    const sids: string[] = [];
    for (const [i, body] of parts.entries()) {
      // One claim per part, `<message id>/<part number>`, so a part already sent is skipped.
      const outcome = await claimedRequest(`${message.messageId}/${i + 1}`, message, () => client.messages.create({ from: numbers.company, to, body, statusCallback: `${base}/twilio/sms/status` }).then((m) => m.sid));
      if (outcome.kind !== 'sent') return settleUnsent(message, outcome, i, parts.length);
      sids.push(outcome.providerId);
      // Runs again on a redelivery that finds the part sent: status callbacks must find the conversation.
      await store.rememberSid(outcome.providerId, message.conversationId);
      if (i === parts.length - 1) sent.inc({ outcome: outcome.repeated ? 'already_sent' : 'sent' });
    }
    await report(message, { delivered: true }, sids.join(','));
  };

  /**
   * One request to Twilio that must not be made twice, claimed in the store under `id`. Stopping
   * between attempts throws DeliveryInterruptedError, a RetryLaterError: left for later.
   */
  const claimedRequest = (id: string, message: OutboundMessage, send: () => Promise<string>): Promise<DeliveryOutcome> =>
    deliverOnce({
      id,
      claims: store.deliveries,
      send,
      classify: classifyTwilioFailure,
      maxAttempts: config.OUTBOUND_MAX_ATTEMPTS,
      backoffMs: (attempt) => Math.min(250 * 2 ** (attempt - 1), 8000),
      sendWindowMs: SEND_WINDOW_MS,
      signal: deps.signal,
      onRetry: (attempt, failure) => logger.info({ conversationId: message.conversationId, attempt, code: failure.code }, 'Twilio refused the request for now; retrying'),
    });

  const settleUnsent = async (message: OutboundMessage, outcome: Exclude<DeliveryOutcome, { kind: 'sent' }>, index: number, total: number, what = 'SMS') => {
    const where = { conversationId: message.conversationId, outboundMessageId: message.messageId, part: index + 1, parts: total };
    // Parts before this one went out: say so, the customer has part of the text.
    const partly = index > 0 ? ` (parts 1-${index} of ${total} were sent)` : '';
    if (!outcome.repeated) {
      const counted = outcome.kind === 'uncertain' ? 'uncertain' : outcome.permanent ? 'failed_permanently' : 'gave_up';
      sent.inc({ outcome: counted });
      logger.warn({ ...where, code: outcome.code }, outcome.kind === 'uncertain' ? `${what} may or may not have been made; not made again` : `${what} not made`);
    }
    const uncertain = outcome.kind === 'uncertain';
    await report(message, { delivered: false, code: outcome.code, detail: outcome.detail + partly, permanent: uncertain || outcome.permanent, uncertain });
  };

  const connectCall = async (message: OutboundMessage) => {
    const call = await store.calls.findOne({ conversationId: message.conversationId, endedAt: { $exists: false } });
    const agentNumber = message.channelMetadata['agent-number'] ?? '';
    if (!call) return report(message, { delivered: false, permanent: true, code: 'NO_CALL', detail: 'the call is no longer in progress' });
    if (!agentNumber && !/^[A-Za-z0-9_.@-]{1,121}$/.test(message.agentId)) {
      return report(message, { delivered: false, permanent: true, code: 'NO_AGENT', detail: 'neither an agent-number nor a usable agent id in the message' });
    }
    // An agent's own phone number when given; otherwise the agent's softphone, registered with
    // Twilio Client under the agent id (how a browser-based desk takes calls).
    const twiml = new twilio.twiml.VoiceResponse();
    const dial = twiml.dial({ callerId: call.company });
    if (agentNumber) dial.number(agentNumber);
    else dial.client(message.agentId);
    // Claimed like an SMS part: the same TwiML sent again would dial the agent again and cut
    // the bridged call, so a redelivered or uncertain bridge is never repeated.
    const outcome = await claimedRequest(`bridge/${message.messageId}`, message, () => client.calls(call._id).update({ twiml: twiml.toString() }).then((c) => c.sid));
    if (outcome.kind !== 'sent') return settleUnsent(message, outcome, 0, 1, 'call bridge');
    sent.inc({ outcome: outcome.repeated ? 'already_bridged' : 'bridged' });
    await report(message, { delivered: true }, call._id);
  };

  return async ({ value: message }: ConsumedEvent<OutboundMessage>): Promise<void> => {
    if (message.channel === Channel.CHANNEL_SMS && TEXTED.has(message.kind)) {
      if (!message.messageId) throw new InvalidEventError(`outbound SMS for conversation ${message.conversationId} has no message_id, so it cannot be sent once`);
      return sendSms(message);
    }
    if (message.channel === Channel.CHANNEL_VOICE && message.kind === OutboundKind.OUTBOUND_KIND_CONNECT_CALL) {
      if (!message.messageId) throw new InvalidEventError(`call bridge for conversation ${message.conversationId} has no message_id, so it cannot be made once`);
      return connectCall(message);
    }
  };
}

interface ReportedOutcome {
  delivered: boolean;
  code?: string;
  detail?: string;
  permanent?: boolean;
  /** The send window closed without an answer: it may or may not have gone; not sent again. */
  uncertain?: boolean;
}

function failureReasonCode(outcome: ReportedOutcome): string {
  if (outcome.uncertain) return 'delivery.uncertain';
  return outcome.permanent ? 'delivery.failed_permanently' : 'delivery.gave_up';
}
