// Outbound SMS, bridging queued calls to agents and calling customers back, through Twilio. Each SMS part and each
// bridge is claimed in the store before it is handed to Twilio, so it is made at most once:
// Twilio's REST API has no idempotency key of its own.
import type { Counter, Registry } from 'prom-client';
import { eventId, isE164 } from '#libs/contact';
import { deliverOnce, deliveryReportedEvent, reportOf, unsentOutcome, type DeliveryOutcome, type DeliveryReport } from '#libs/delivery';
import { backoffMs, type BackoffOptions } from '#libs/faults';
import { InvalidEventError, topics, type ConsumedEvent, type EventProducer } from '#libs/kafka';
import { sharedCounter, type Logger } from '#libs/observability';
import { CallbackOutcome, Channel, IdentityKind, OutboundKind, type OutboundMessage } from '#libs/proto';
import { surveySentOf } from '#libs/survey';
import { inSpan, SpanKind } from '#libs/tracing';
import { agentAddress, askSurvey, bridgeTarget, callerToConference, conferenceName } from './calls';
import { agentDialInFailed, attemptReported, callbackAnswered, callbackStatusUrl } from './callbacks';
import type { SmsVoiceConfig } from './config';
import { queuePatterns, queueRecords, recordedCallerToConference, recordingCallbackUrl } from './recordings';
import { splitBody } from './sms';
import type { SmsVoiceStore } from './store';
import { newThread } from './thread-starts';
import { classifyTwilioFailure, createTwilioClient, SEND_WINDOW_MS, type TwilioClient } from './twilio-client';
import { approvedTemplate, messagingAddress, replyWindow, windowClosedDetail, type ApprovedTemplate } from './whatsapp';

const TEXTED = new Set([
  OutboundKind.OUTBOUND_KIND_REPLY,
  OutboundKind.OUTBOUND_KIND_ACKNOWLEDGEMENT,
  OutboundKind.OUTBOUND_KIND_STATUS_UPDATE,
  OutboundKind.OUTBOUND_KIND_CONVERSATION_ENDED,
  OutboundKind.OUTBOUND_KIND_SURVEY,
]);

/** The channels texted through Twilio's Messaging API. */
const MESSAGING = new Set([Channel.CHANNEL_SMS, Channel.CHANNEL_WHATSAPP]);

/** Between attempts of one request: 250 ms doubling up to 8 s, OUTBOUND_MAX_ATTEMPTS in all. */
const RETRY_BACKOFF: BackoffOptions = { initialMs: 250, maxMs: 8000, jitter: 0 };

export interface SmsOutboundDeps {
  config: SmsVoiceConfig;
  store: SmsVoiceStore;
  producer: EventProducer;
  logger: Logger;
  metrics: Registry;
  /** Aborted when the service stops: an SMS waiting for its next try is left for a later delivery. */
  signal?: AbortSignal;
  /** The waits between attempts of one request; by default RETRY_BACKOFF. */
  backoff?: BackoffOptions;
  /** The agent's own phone when the roster says their calls ring there; undefined for the softphone. */
  agentPhone(agentId: string): Promise<string | undefined>;
}

export function createOutboundHandler(deps: SmsOutboundDeps) {
  const outbound = new SmsOutbound(deps);
  return ({ value }: ConsumedEvent<OutboundMessage>): Promise<void> => outbound.handle(value);
}

class SmsOutbound {
  private readonly client: TwilioClient;
  private readonly base: string;
  private readonly counted: Counter<'outcome'>;
  private readonly recordedQueues: string[];

  constructor(private readonly deps: SmsOutboundDeps) {
    this.client = createTwilioClient(deps.config);
    this.base = deps.config.PUBLIC_BASE_URL.replace(/\/$/, '');
    this.recordedQueues = queuePatterns(deps.config.VOICE_RECORDED_QUEUES);
    this.counted = sharedCounter(deps.metrics, { name: 'cc_sms_outbound_total', help: 'Outbound SMS and call bridging by outcome', labelNames: ['outcome'] });
  }

  async handle(message: OutboundMessage): Promise<void> {
    if (MESSAGING.has(message.channel) && TEXTED.has(message.kind)) {
      if (!message.messageId)
        throw new InvalidEventError(`outbound message for conversation ${message.conversationId} has no message_id, so it cannot be sent once`);
      return this.sendSms(message);
    }
    if (message.channel === Channel.CHANNEL_VOICE && message.kind === OutboundKind.OUTBOUND_KIND_SURVEY) {
      if (!message.messageId)
        throw new InvalidEventError(`call survey for conversation ${message.conversationId} has no message_id, so it cannot be made once`);
      return this.surveyCall(message);
    }
    if (message.channel === Channel.CHANNEL_VOICE && message.kind === OutboundKind.OUTBOUND_KIND_CALLBACK) {
      if (!message.messageId) throw new InvalidEventError(`callback for conversation ${message.conversationId} has no message_id, so it cannot be made once`);
      return this.callBack(message);
    }
    if (message.channel === Channel.CHANNEL_VOICE && message.kind === OutboundKind.OUTBOUND_KIND_CONNECT_CALL) {
      if (!message.messageId)
        throw new InvalidEventError(`call bridge for conversation ${message.conversationId} has no message_id, so it cannot be made once`);
      return this.connectCall(message);
    }
  }

  /** A message that cannot go out, reported as a permanent failure with the code and why. */
  private refuse(message: OutboundMessage, outcome: string, code: string, detail: string): Promise<void> {
    this.counted.inc({ outcome });
    return this.report(message, { delivered: false, permanent: true, code, detail });
  }

  private async sendSms(message: OutboundMessage): Promise<void> {
    const { store } = this.deps;
    const whatsapp = message.channel === Channel.CHANNEL_WHATSAPP;
    const known = await store.numbersOf(message.conversationId);
    const to = message.recipient?.kind === IdentityKind.IDENTITY_KIND_PHONE ? messagingAddress(message.channel, message.recipient.value) : known?.customer;
    if (!to) return this.refuse(message, 'no_recipient', 'NO_RECIPIENT', 'no phone numbers known for this conversation');
    // Before anything goes out, WhatsApp's templates too: STOP holds on every messaging channel.
    if (await store.isOptedOut(to))
      return this.refuse(message, 'opted_out', 'OPTED_OUT', `the customer replied STOP; no ${whatsapp ? 'WhatsApp message' : 'SMS'} may be sent until START`);
    const numbers = known ?? (await newThread(this.deps.store, this.deps.config, message, to));
    if (!numbers)
      return this.refuse(
        message,
        'no_recipient',
        'NO_COMPANY_NUMBER',
        `the conversation has no ${whatsapp ? 'WhatsApp message' : 'SMS'} yet and no company number is configured to start it from`,
      );
    const template = whatsapp ? approvedTemplate(message.channelMetadata) : undefined;
    if (template) return this.sendTemplate(message, numbers.company, to, template);
    if (whatsapp && !(await this.inReplyWindow(message, to, numbers.company))) return;
    // Remembered before it goes out, so the quickest answer finds it.
    if (message.kind === OutboundKind.OUTBOUND_KIND_SURVEY) await store.surveys.sent(surveySentOf(message, new Date()));
    const parts = splitBody(message.text);
    const sids: string[] = [];
    for (const [i, body] of parts.entries()) {
      // One claim per part, `<message id>/<part number>`, so a part already sent is skipped.
      const create = () =>
        inSpan('twilio send sms', { kind: SpanKind.CLIENT }, () =>
          this.client.messages.create({ from: numbers.company, to, body, statusCallback: `${this.base}/twilio/sms/status` }).then((m) => m.sid),
        );
      const outcome = await this.claimedRequest(`${message.messageId}/${i + 1}`, message, create);
      if (outcome.kind !== 'sent') return this.settleUnsent(message, outcome, i, parts.length);
      sids.push(outcome.providerId);
      // Runs again on a redelivery that finds the part sent: status callbacks must find the conversation.
      await store.rememberSid(outcome.providerId, message.conversationId);
      if (i === parts.length - 1) this.counted.inc({ outcome: outcome.repeated ? 'already_sent' : 'sent' });
    }
    await this.report(message, { delivered: true }, sids.join(','));
  }

  /** An approved WhatsApp template with its variables (Twilio's Content API), allowed at any time; claimed once. */
  private async sendTemplate(message: OutboundMessage, from: string, to: string, t: ApprovedTemplate): Promise<void> {
    const create = () =>
      inSpan('twilio send whatsapp template', { kind: SpanKind.CLIENT }, () =>
        this.client.messages
          .create({ from, to, contentSid: t.contentSid, contentVariables: t.contentVariables, statusCallback: `${this.base}/twilio/sms/status` })
          .then((m) => m.sid),
      );
    const outcome = await this.claimedRequest(`${message.messageId}/template`, message, create);
    if (outcome.kind !== 'sent') return this.settleUnsent(message, outcome, 0, 1, 'WhatsApp template');
    await this.deps.store.rememberSid(outcome.providerId, message.conversationId);
    this.counted.inc({ outcome: outcome.repeated ? 'already_sent' : 'template_sent' });
    await this.report(message, { delivered: true }, outcome.providerId);
  }

  /**
   * WhatsApp's 24-hour rule, checked before anything is sent: outside the window the approved
   * re-opening template goes instead (once per message), and the reply is reported undelivered so
   * the agent sees why and sends it again once the customer answers.
   */
  private async inReplyWindow(message: OutboundMessage, to: string, from: string): Promise<boolean> {
    const window = replyWindow(await this.deps.store.lastInboundAt(to, from), new Date());
    if (window.open) return true;
    const template = this.deps.config.WHATSAPP_REOPEN_TEMPLATE_SID;
    if (template) {
      const create = () => this.client.messages.create({ from, to, contentSid: template, statusCallback: `${this.base}/twilio/sms/status` }).then((m) => m.sid);
      const outcome = await this.claimedRequest(`${message.messageId}/reopen-template`, message, create);
      if (outcome.kind !== 'sent') {
        await this.settleUnsent(message, outcome, 0, 1, 'WhatsApp template');
        return false;
      }
      await this.deps.store.rememberSid(outcome.providerId, message.conversationId);
    }
    this.counted.inc({ outcome: 'whatsapp_window_closed' });
    await this.report(message, {
      delivered: false,
      permanent: true,
      code: 'WHATSAPP_WINDOW_CLOSED',
      detail: windowClosedDetail(window, Boolean(template)),
    });
    return false;
  }

  /**
   * The survey of a resolved call: a caller still on the line is asked for a digit (the call's
   * TwiML replaced, which ends a bridge the agent left open); a caller who already hung up gets
   * it by SMS from the number they called, and their reply answers the call's conversation.
   */
  private async surveyCall(message: OutboundMessage): Promise<void> {
    const { store } = this.deps;
    const call = await store.callOfConversation(message.conversationId);
    if (!call) return this.report(message, { delivered: false, permanent: true, code: 'NO_CALL', detail: 'no call is known for this conversation' });
    if (call.endedAt) {
      await store.startThread(message.conversationId, call.customer, call.company, new Date());
      return this.sendSms({ ...message, recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: call.customer, namespace: '' } });
    }
    await store.surveys.sent(surveySentOf(message, new Date()));
    const twiml = askSurvey(this.base);
    const outcome = await this.claimedRequest(`survey/${message.messageId}`, message, () =>
      this.client
        .calls(call._id)
        .update({ twiml })
        .then((c) => c.sid),
    );
    if (outcome.kind !== 'sent') return this.settleUnsent(message, outcome, 0, 1, 'call survey');
    this.counted.inc({ outcome: outcome.repeated ? 'already_asked' : 'survey_asked' });
    await this.report(message, { delivered: true }, call._id);
  }

  /** Where the message's agent takes calls: `agent-number` when routing names one, else the roster's phone, else the softphone. */
  private async agentTarget(message: OutboundMessage): Promise<{ number: string } | { clientId: string } | undefined> {
    const named = message.channelMetadata['agent-number'] ?? '';
    return bridgeTarget(named || ((message.agentId && (await this.deps.agentPhone(message.agentId))) ?? ''), message.agentId);
  }

  private async connectCall(message: OutboundMessage): Promise<void> {
    const call = await this.deps.store.ongoingCallOf(message.conversationId);
    if (!call) return this.report(message, { delivered: false, permanent: true, code: 'NO_CALL', detail: 'the call is no longer in progress' });
    const agent = await this.agentTarget(message);
    if (!agent)
      return this.report(message, {
        delivered: false,
        permanent: true,
        code: 'NO_AGENT',
        detail: 'neither an agent-number nor a usable agent id in the message',
      });
    // Each step claimed like an SMS part: the caller moved into the conference again would
    // restart their hold music, and the agent dialled again would ring twice.
    const conference = conferenceName(message.conversationId);
    const previous = call.bridge;
    if (!previous) {
      const twiml = this.callerTwiml(conference, message.queue, call._id);
      const joined = await this.claimedRequest(`bridge/${message.messageId}`, message, () =>
        this.client
          .calls(call._id)
          .update({ twiml })
          .then((c) => c.sid),
      );
      if (joined.kind !== 'sent') return this.settleUnsent(message, joined, 0, 1, 'call bridge');
    }
    // A transfer after a consult: the expert is in the conference already and takes the call over.
    const consulted = previous && call.legs?.find((l) => l.label === 'consult' && l.staffId === message.agentId);
    let leg = consulted ? `${previous.conferenceSid}/${consulted.callSid}` : '';
    if (!leg) {
      const dialled = await this.claimedRequest(`bridge/${message.messageId}/agent`, message, () =>
        this.client
          .conferences(conference)
          .participants.create({
            from: call.company,
            to: agentAddress(agent),
            label: 'agent',
            startConferenceOnEnter: true,
            endConferenceOnExit: false,
            beep: 'false',
          })
          .then((p) => `${p.conferenceSid}/${p.callSid}`),
      );
      if (dialled.kind !== 'sent') return this.agentNotDialled(message, dialled);
      leg = dialled.providerId;
    }
    const [conferenceSid = '', agentCallSid = ''] = leg.split('/');
    await this.deps.store.bridged(call._id, { agentId: message.agentId, agentCallSid, conferenceSid, conference }, !previous);
    if (previous && previous.agentCallSid !== agentCallSid) await this.release(message, previous.agentCallSid);
    this.counted.inc({ outcome: previous ? 'transferred' : 'bridged' });
    await this.report(message, { delivered: true }, call._id);
  }

  /** The caller's way into the conference; in a queue that records, through the consent announcement. */
  private callerTwiml(conference: string, queue: string, callerCallSid: string): string {
    const { config } = this.deps;
    if (!queueRecords(queue, this.recordedQueues)) return callerToConference(conference, config.VOICE_HOLD_MUSIC_URL);
    return recordedCallerToConference(conference, config.VOICE_HOLD_MUSIC_URL, config.VOICE_RECORDING_CONSENT, recordingCallbackUrl(this.base, callerCallSid));
  }

  /** The agent who transferred the call leaves it: their leg is hung up, the conference goes on. */
  private async release(message: OutboundMessage, agentCallSid: string): Promise<void> {
    const left = await this.claimedRequest(`bridge/${message.messageId}/release`, message, () =>
      this.client
        .calls(agentCallSid)
        .update({ status: 'completed' })
        .then((c) => c.sid),
    );
    if (left.kind !== 'sent')
      this.deps.logger.warn(
        { conversationId: message.conversationId, code: left.code },
        "the previous agent's leg was not hung up; they can hang up themselves",
      );
  }

  /**
   * Calls the customer back from the number they called; on answering they hear a greeting and
   * join the conversation's conference, as an inbound caller does, and the agent is dialled into
   * it (callback-bridge.ts). Claimed per attempt (`callback/<message id>`): a redelivery never
   * rings the customer twice. The call's status callback reports the attempt (voice-webhooks.ts).
   */
  private async callBack(message: OutboundMessage): Promise<void> {
    const to = message.recipient?.value ?? '';
    const attempt = Number(message.channelMetadata['callback-attempt'] ?? 0);
    if (!isE164(to)) return this.callbackNotMade(message, attempt, 'INVALID_NUMBER', 'the callback number is not an E.164 number; nothing was dialled');
    const call = await this.deps.store.callOfConversation(message.conversationId);
    if (!call) return this.report(message, { delivered: false, permanent: true, code: 'NO_CALL', detail: 'no call is known for this conversation' });
    const agent = await this.agentTarget(message);
    if (!agent) return this.callbackNotMade(message, attempt, 'NO_AGENT', 'neither an agent-number nor a usable agent id in the message');
    const { config } = this.deps;
    // The recording's report names the call the conversation began with: the callback's own sid is not known yet.
    const recorded = queueRecords(message.queue, this.recordedQueues)
      ? { consent: config.VOICE_RECORDING_CONSENT, callbackUrl: recordingCallbackUrl(this.base, call._id) }
      : undefined;
    const twiml = callbackAnswered(conferenceName(message.conversationId), config.VOICE_HOLD_MUSIC_URL, recorded);
    const statusCallback = callbackStatusUrl(this.base, message.conversationId, attempt);
    const outcome = await this.claimedRequest(`callback/${message.messageId}`, message, () =>
      inSpan('twilio call back', { kind: SpanKind.CLIENT }, () =>
        this.client.calls
          .create({ to, from: call.company, twiml, statusCallback, statusCallbackMethod: 'POST', statusCallbackEvent: ['answered', 'completed'], timeout: 30 })
          .then((c) => c.sid),
      ),
    );
    if (outcome.kind !== 'sent') return this.settleUnsent(message, outcome, 0, 1, 'callback');
    const leg = { agentId: message.agentId, agentAddress: agentAddress(agent), messageId: message.messageId, attempt };
    await this.deps.store.callingBack({
      _id: outcome.providerId,
      conversationId: message.conversationId,
      customer: to,
      company: call.company,
      startedAt: new Date(),
      callback: leg,
    });
    this.counted.inc({ outcome: outcome.repeated ? 'already_called_back' : 'called_back' });
    await this.report(message, { delivered: true }, outcome.providerId);
  }

  /** The agent's leg could not be added: reported undelivered and, when it surely failed, as an event routing acts on (another agent). */
  private async agentNotDialled(message: OutboundMessage, outcome: Exclude<DeliveryOutcome, { kind: 'sent' }>): Promise<void> {
    await this.settleUnsent(message, outcome, 0, 1, 'agent dial-in');
    if (outcome.kind !== 'failed') return;
    const event = agentDialInFailed(
      message.conversationId,
      { agentId: message.agentId, code: outcome.code, callbackAttempt: 0, messageId: message.messageId },
      new Date(),
    );
    await this.deps.producer.publish(topics.conversationEvents, message.conversationId, event, { id: event.eventId });
  }

  /** A callback that cannot be dialled: reported undelivered, and as a failed attempt so routing frees the agent. */
  private async callbackNotMade(message: OutboundMessage, attempt: number, code: string, detail: string): Promise<void> {
    this.counted.inc({ outcome: code.toLowerCase() });
    await this.report(message, { delivered: false, permanent: true, code, detail });
    const event = attemptReported(
      '',
      message.conversationId,
      attempt,
      CallbackOutcome.CALLBACK_OUTCOME_FAILED,
      code.toLowerCase(),
      new Date(),
      message.messageId,
    );
    await this.deps.producer.publish(topics.conversationEvents, message.conversationId, event, { id: event.eventId });
  }

  /**
   * One request to Twilio that must not be made twice, claimed in the store under `id`. Stopping
   * between attempts throws DeliveryInterruptedError, a RetryLaterError: left for later.
   */
  private claimedRequest(id: string, message: OutboundMessage, send: () => Promise<string>): Promise<DeliveryOutcome> {
    return deliverOnce({
      id,
      claims: this.deps.store.deliveries,
      send,
      classify: classifyTwilioFailure,
      maxAttempts: this.deps.config.OUTBOUND_MAX_ATTEMPTS,
      backoffMs: (attempt) => backoffMs(attempt, this.deps.backoff ?? RETRY_BACKOFF),
      sendWindowMs: SEND_WINDOW_MS,
      signal: this.deps.signal,
      onRetry: (attempt, failure) =>
        this.deps.logger.info({ conversationId: message.conversationId, attempt, code: failure.code }, 'Twilio refused the request for now; retrying'),
    });
  }

  private async settleUnsent(
    message: OutboundMessage,
    outcome: Exclude<DeliveryOutcome, { kind: 'sent' }>,
    index: number,
    total: number,
    what = 'SMS',
  ): Promise<void> {
    const where = { conversationId: message.conversationId, outboundMessageId: message.messageId, part: index + 1, parts: total };
    if (!outcome.repeated) {
      this.counted.inc({ outcome: unsentOutcome(outcome) });
      this.deps.logger.warn(
        { ...where, code: outcome.code },
        outcome.kind === 'uncertain' ? `${what} may or may not have been made; not made again` : `${what} not made`,
      );
    }
    // Parts before this one went out: say so, the customer has part of the text.
    const partly = index > 0 ? ` (parts 1-${index} of ${total} were sent)` : '';
    await this.report(message, reportOf(outcome, partly));
  }

  private async report(message: OutboundMessage, report: DeliveryReport, sid = ''): Promise<void> {
    const event = deliveryReportedEvent(message, report, {
      eventId: eventId('sms-voice', 'sms-out', message.messageId, report.delivered ? 'sent' : report.uncertain ? 'uncertain' : 'failed'),
      channel: message.channel,
      occurredAt: new Date(),
      accepted: { code: 'delivery.queued', text: `accepted by Twilio as ${sid}` },
    });
    await this.deps.producer.publish(topics.conversationEvents, message.conversationId, event, { id: event.eventId });
  }
}
