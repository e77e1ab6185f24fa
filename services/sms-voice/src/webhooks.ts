// Twilio's webhooks over HTTP: every request's signature checked first, SMS and calls turned
// into contacts, callers answered with TwiML. A webhook carrying a contact answers 200 only
// after Kafka acknowledged it or the local spool has it on disk (Twilio does not retry a failed
// SMS webhook by itself); 503 when neither, for Twilio's retries or Fallback URL.
import type http from 'node:http';
import twilio from 'twilio';
import { eventId } from '../../../libs/contact';
import { KafkaUnavailableError } from '../../../libs/kafka';
import { errorDetails, sharedCounter, type Logger } from '../../../libs/observability';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind } from '../../../libs/proto';
import type { Registry } from 'prom-client';
import type { SmsVoiceConfig } from './config';
import { RateLimiter } from '../../../libs/rate-limit';
import { clientAddress, HttpError } from '../../../libs/web';
import { readWebhookForm, WebhookFormError, type WebhookParams } from './webhook-form';
import { InvalidNumberError, keywordOf, positionInWords, toE164, waitInWords } from './sms';
import { SpoolRefusedError, type ContactSpool } from './spool';
import type { SmsVoiceStore } from './store';
import { noWaitEstimates, type WaitEstimates } from './wait-estimates';

const { MessagingResponse, VoiceResponse } = twilio.twiml;

export interface WebhookDeps {
  config: SmsVoiceConfig;
  store: SmsVoiceStore;
  /** Where contacts and conversation events go: Kafka, or the spool while Kafka does not acknowledge. */
  contacts: Pick<ContactSpool, 'deliver' | 'deliverEvent'>;
  logger: Logger;
  metrics: Registry;
  waitEstimates?: WaitEstimates;
  now?: () => Date;
}

type Params = WebhookParams;
type Route = (params: Params) => Promise<string>;

export function createWebhookHandler(deps: WebhookDeps) {
  const { config, store, logger } = deps;
  const waitEstimates = deps.waitEstimates ?? noWaitEstimates;
  const now = deps.now ?? (() => new Date());
  const counted = sharedCounter(deps.metrics, { name: 'cc_twilio_webhooks_total', help: 'Twilio webhooks by route and HTTP status', labelNames: ['route', 'status'] });
  const base = config.PUBLIC_BASE_URL.replace(/\/$/, '');
  // Signed requests are never limited (Twilio's volume is the business); an address that keeps
  // sending bad signatures is cut off for the rest of the minute.
  const refusedSources = new RateLimiter(config.BAD_SIGNATURES_PER_MINUTE, 60_000);
  const phone = (value: string | undefined, field: string) => toE164(value ?? '', field, config.DEFAULT_PHONE_COUNTRY);

  const deliverContact = (contact: ContactReceived, whenSpooled?: ContactReceived) => deps.contacts.deliver(contact, whenSpooled);
  const publishEvent = (event: ConversationEvent) => deps.contacts.deliverEvent(event);

  const sms: Route = async (p) => {
    const sid = required(p, 'MessageSid');
    const customer = phone(p.From, 'From');
    const company = phone(p.To, 'To');
    const body = (p.Body ?? '').slice(0, 1600);
    const keyword = keywordOf(body);
    const reply = new MessagingResponse();
    if (keyword === 'stop') await store.setOptOut(customer, true);
    if (keyword === 'start') await store.setOptOut(customer, false);
    if (keyword === 'help') reply.message('Reply with your question and an agent will answer. Reply STOP to stop messages, START to receive them again.');
    if (keyword === 'stop' || keyword === 'start') return reply.toString(); // Twilio sends the carrier confirmation itself.

    const at = now();
    const thread = await store.claimSms(sid, customer, company, at, config.SMS_CONVERSATION_WINDOW_MS);
    const media = Array.from({ length: Math.min(Number(p.NumMedia ?? 0) || 0, 10) }, (_, i) => ({
      name: `media-${i}`,
      contentType: p[`MediaContentType${i}`] ?? '',
      sizeBytes: 0,
      sha256: '',
      storageRef: p[`MediaUrl${i}`] ?? '',
    })).filter((m) => m.storageRef);
    await deliverContact(
      ContactReceived.fromPartial({
        contactId: eventId('sms-voice', 'sms', sid),
        conversationId: thread.conversationId,
        channel: Channel.CHANNEL_SMS,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        receivedAt: at,
        sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: customer },
        recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: company },
        newConversation: thread.isNew,
        text: body,
        attachments: media,
        externalId: sid,
        channelMetadata: { 'message-sid': sid, ...(p.FromCountry ? { 'from-country': p.FromCountry } : {}) },
      }),
    );
    return reply.toString();
  };

  const voice: Route = async (p) => {
    const sid = required(p, 'CallSid');
    const customer = phone(p.From, 'From');
    const company = phone(p.To, 'To');
    const existing = await store.calls.findOne({ _id: sid });
    const conversationId = existing?.conversationId ?? `conv-${sid}`;
    if (!existing) await store.calls.updateOne({ _id: sid }, { $setOnInsert: { conversationId, customer, company, startedAt: now() } }, { upsert: true });
    const call = { conversationId, customer, company };
    const at = existing?.startedAt ?? now();
    // A call Kafka cannot take now cannot be queued either: the caller is told the lines are
    // busy, and a callback request is spooled, to be routed when the broker is back.
    const promised = callbackRequest(sid, call, at);
    const outcome = await deliverContact(
      { ...callContact(sid, call, ContactKind.CONTACT_KIND_CALL, at), contactId: eventId('sms-voice', 'call', sid), newConversation: true },
      { ...promised, newConversation: true, channelMetadata: { ...promised.channelMetadata, 'callback-reason': 'lines-busy' } },
    );
    const response = new VoiceResponse();
    if (outcome === 'spooled') {
      response.say(LINES_BUSY);
      response.hangup();
      return response.toString();
    }
    response.say('Thank you for calling. Please hold while we connect you to the next available agent.');
    response.enqueue({ waitUrl: `${base}/twilio/voice/wait`, waitUrlMethod: 'POST', action: `${base}/twilio/voice/queue-result`, method: 'POST' }, 'support');
    return response.toString();
  };

  /** Played to a queued caller, again and again: position, estimated wait, and a callback offer when the wait is long. */
  const wait: Route = async (p) => {
    const sid = required(p, 'CallSid');
    const call = await store.calls.findOne({ _id: sid });
    // Routing orders its queue by priority, so its position and estimate are the honest ones;
    // Twilio's own first-in-first-out position and the SLA target are the fallback.
    const fromRouting = call ? await waitEstimates(call.conversationId) : undefined;
    const position = Math.max(1, fromRouting?.position || Number(p.QueuePosition ?? 1) || 1);
    const estimateMs = fromRouting ? fromRouting.estimatedWaitMs : config.VOICE_SLA_MS * position;
    const response = new VoiceResponse();
    response.say(`${positionInWords(position)} The expected wait is ${waitInWords(estimateMs)}.`);
    if (estimateMs > config.CALLBACK_OFFER_AFTER_MS) {
      const gather = response.gather({ numDigits: 1, action: `${base}/twilio/voice/callback`, method: 'POST', timeout: 5 });
      gather.say('To be called back instead of waiting, press 1.');
    }
    response.pause({ length: 10 });
    return response.toString();
  };

  const callback: Route = async (p) => {
    const sid = required(p, 'CallSid');
    const response = new VoiceResponse();
    if (p.Digits !== '1') {
      response.say('Please keep holding.');
      return response.toString();
    }
    const call = await store.calls.findOne({ _id: sid });
    if (!call) throw new HttpError(404, `unknown call ${sid}`);
    await deliverContact(callbackRequest(sid, call, now()));
    response.say('Thank you. We will call you back as soon as an agent is free. Goodbye.');
    response.leave();
    return response.toString();
  };

  const queueResult: Route = async (p) => {
    const sid = required(p, 'CallSid');
    const call = await store.calls.findOne({ _id: sid });
    if (call && p.QueueResult === 'hangup') {
      await publishEvent(
        ConversationEvent.fromPartial({
          eventId: eventId('sms-voice', 'abandoned', sid),
          conversationId: call.conversationId,
          occurredAt: now(),
          channel: Channel.CHANNEL_VOICE,
          reason: { code: 'caller.hung_up_in_queue', text: 'the caller hung up while waiting' },
          step: { $case: 'abandoned', abandoned: { waitedMs: (Number(p.QueueTime ?? 0) || 0) * 1000 } },
        }),
      );
    }
    return new VoiceResponse().toString();
  };

  const callStatus: Route = async (p) => {
    const sid = required(p, 'CallSid');
    const call = await store.calls.findOne({ _id: sid });
    if (call && ['completed', 'busy', 'failed', 'no-answer', 'canceled'].includes(p.CallStatus ?? '')) {
      await store.calls.updateOne({ _id: sid }, { $set: { endedAt: now() } });
      await publishEvent(
        ConversationEvent.fromPartial({
          eventId: eventId('sms-voice', 'call-ended', sid),
          conversationId: call.conversationId,
          occurredAt: now(),
          channel: Channel.CHANNEL_VOICE,
          reason: { code: `call.${p.CallStatus}`, text: `call ${p.CallStatus}` },
          step: { $case: 'callEnded', callEnded: { durationMs: (Number(p.CallDuration ?? 0) || 0) * 1000, status: p.CallStatus ?? '' } },
        }),
      );
    }
    return new VoiceResponse().toString();
  };

  const smsStatus: Route = async (p) => {
    const sid = required(p, 'MessageSid');
    const status = p.MessageStatus ?? '';
    const conversationId = await store.conversationOfSid(sid);
    if (conversationId && ['delivered', 'undelivered', 'failed'].includes(status)) {
      await publishEvent(
        ConversationEvent.fromPartial({
          eventId: eventId('sms-voice', 'sms-status', sid, status),
          conversationId,
          occurredAt: now(),
          channel: Channel.CHANNEL_SMS,
          reason: { code: `delivery.${status}`, text: `carrier reported ${status}` },
          step: {
            $case: 'deliveryReported',
            deliveryReported: { outboundMessageId: sid, delivered: status === 'delivered', errorCode: p.ErrorCode ?? '', detail: status, permanent: status !== 'delivered' },
          },
        }),
      );
    }
    return '';
  };

  const routes: Record<string, Route> = {
    '/twilio/sms': sms,
    '/twilio/sms/status': smsStatus,
    '/twilio/voice': voice,
    '/twilio/voice/wait': wait,
    '/twilio/voice/callback': callback,
    '/twilio/voice/queue-result': queueResult,
    '/twilio/voice/status': callStatus,
  };

  return async (req: http.IncomingMessage, res: http.ServerResponse): Promise<boolean> => {
    const path = (req.url ?? '/').split('?')[0]!;
    const route = routes[path];
    if (!route) return false;
    let status = 200;
    try {
      if (req.method !== 'POST') throw new HttpError(405, 'Twilio webhooks are POST requests');
      const source = clientAddress(req, config.TRUSTED_PROXIES);
      if (refusedSources.isOver(source, Date.now())) throw new HttpError(429, 'too many unsigned or badly signed requests from this address; try again later');
      let params: Params;
      try {
        params = await readWebhookForm(req, config.WEBHOOK_MAX_BYTES);
      } catch (err) {
        // Twilio never sends such a body: it counts as an unsigned request.
        if (err instanceof WebhookFormError) refusedSources.take(source, Date.now());
        throw err;
      }
      const signature = req.headers['x-twilio-signature'];
      // Signed over the public URL Twilio called, which a proxy may hide from us.
      if (typeof signature !== 'string' || !twilio.validateRequest(config.TWILIO_AUTH_TOKEN, signature, base + (req.url ?? ''), params)) {
        refusedSources.take(source, Date.now());
        throw new HttpError(403, 'missing or invalid X-Twilio-Signature');
      }
      const body = await route(params);
      res.writeHead(200, { 'content-type': 'text/xml' }).end(body);
    } catch (err) {
      status = err instanceof HttpError || err instanceof WebhookFormError ? err.status : err instanceof InvalidNumberError ? 400 : err instanceof KafkaUnavailableError || err instanceof SpoolRefusedError ? 503 : 500;
      if (status >= 500) logger.warn({ path, status, ...errorDetails(err) }, 'webhook not accepted');
      const message = status === 500 ? 'internal error' : err instanceof Error ? err.message : String(err);
      // A body refused half-read is not read on: the connection closes after the answer.
      const extra = status === 503 ? { 'retry-after': '5' } : status === 413 ? { connection: 'close' } : {};
      res.writeHead(status, { 'content-type': 'text/plain', ...extra }).end(message);
    } finally {
      counted.inc({ route: path, status: String(status) });
    }
    return true;
  };
}

/** Said to a caller when the call cannot be queued (Kafka is down) and a callback is spooled instead. */
export const LINES_BUSY = 'All our lines are busy right now. We have your number and will call you back as soon as an agent is free. Goodbye.';

/** The caller asked to be called back (or was promised a call back): routed as a contact of the call's conversation. */
function callbackRequest(sid: string, call: { conversationId: string; customer: string; company: string }, at: Date): ContactReceived {
  const contact = callContact(sid, call, ContactKind.CONTACT_KIND_CALLBACK_REQUEST, at);
  return { ...contact, contactId: eventId('sms-voice', 'callback', sid), channelMetadata: { ...contact.channelMetadata, 'callback-number': call.customer } };
}

/** A voice contact of a call: who called which number, on the call's conversation. */
function callContact(sid: string, call: { conversationId: string; customer: string; company: string }, kind: ContactKind, receivedAt: Date): ContactReceived {
  return ContactReceived.fromPartial({
    conversationId: call.conversationId,
    channel: Channel.CHANNEL_VOICE,
    kind,
    receivedAt,
    sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: call.customer },
    recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: call.company },
    externalId: sid,
    channelMetadata: { 'call-sid': sid },
  });
}

function required(params: Params, name: string): string {
  const value = params[name];
  if (!value || !/^[A-Za-z0-9]{10,64}$/.test(value)) throw new HttpError(400, `${name} is missing or malformed`);
  return value;
}
