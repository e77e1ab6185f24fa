// What an inbound SMS and a carrier's status report become. No I/O.
import twilio from 'twilio';
import { eventId } from '#libs/contact';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind } from '#libs/proto';
import type { Keyword } from './sms';
import { TWILIO_WINDOW_CLOSED, TWILIO_WINDOW_CLOSED_WORDS } from './whatsapp';
import type { WebhookParams } from './webhook-form';

const { MessagingResponse } = twilio.twiml;

/** The part of a body that is kept: Twilio's own limit for one message. */
export const MAX_INBOUND_BODY = 1600;
/** MMS media per message, as Twilio numbers them (MediaUrl0 … MediaUrl9). */
const MAX_MEDIA = 10;

/** The statuses of an outbound SMS a carrier reports as final. */
export const FINAL_SMS_STATUSES = ['delivered', 'undelivered', 'failed'];

interface InboundSms {
  sid: string;
  /** CHANNEL_SMS or CHANNEL_WHATSAPP. */
  channel: Channel;
  /** Numbers in E.164, without a `whatsapp:` prefix: the customer is one person on every channel. */
  customer: string;
  company: string;
  body: string;
}

/**
 * The answer to a keyword: HELP is answered. On SMS the carrier rules have Twilio confirm STOP
 * and START itself; on WhatsApp nobody does, so the service confirms them.
 */
export function keywordReply(keyword: Keyword | undefined, channel: Channel = Channel.CHANNEL_SMS): string {
  const reply = new MessagingResponse();
  if (keyword === 'help') reply.message('Reply with your question and an agent will answer. Reply STOP to stop messages, START to receive them again.');
  if (channel === Channel.CHANNEL_WHATSAPP && keyword === 'stop')
    reply.message('You will get no more WhatsApp messages from us. Reply START to receive them again.');
  if (channel === Channel.CHANNEL_WHATSAPP && keyword === 'start') reply.message('You will receive our WhatsApp messages again. Reply STOP to stop them.');
  return reply.toString();
}

/** The short answer to an SMS that answered the survey, or came after another answer. */
export function surveyReply(outcome: 'answered' | 'already-answered'): string {
  const reply = new MessagingResponse();
  reply.message(outcome === 'answered' ? 'Thank you for your feedback!' : 'Thank you, this conversation was already rated.');
  return reply.toString();
}

export function smsContact(sms: InboundSms, params: WebhookParams, thread: { conversationId: string; isNew: boolean }, receivedAt: Date): ContactReceived {
  return ContactReceived.fromPartial({
    contactId: eventId('sms-voice', 'sms', sms.sid),
    conversationId: thread.conversationId,
    channel: sms.channel,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt,
    sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: sms.customer },
    recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: sms.company },
    newConversation: thread.isNew,
    text: sms.body,
    attachments: mediaOf(params),
    externalId: sms.sid,
    channelMetadata: { 'message-sid': sms.sid, ...(params.FromCountry ? { 'from-country': params.FromCountry } : {}) },
  });
}

/** MMS media, referred to by Twilio's URLs (not downloaded). */
function mediaOf(params: WebhookParams) {
  return Array.from({ length: Math.min(Number(params.NumMedia ?? 0) || 0, MAX_MEDIA) }, (_, i) => ({
    name: `media-${i}`,
    contentType: params[`MediaContentType${i}`] ?? '',
    sizeBytes: 0,
    sha256: '',
    storageRef: params[`MediaUrl${i}`] ?? '',
  })).filter((m) => m.storageRef);
}

/** What the carrier said became of an SMS we sent (by its MessageSid). */
export function carrierReported(sid: string, conversationId: string, status: string, errorCode: string, at: Date): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: eventId('sms-voice', 'sms-status', sid, status),
    conversationId,
    occurredAt: at,
    channel: Channel.CHANNEL_SMS,
    reason: { code: `delivery.${status}`, text: `carrier reported ${status}` },
    step: {
      $case: 'deliveryReported',
      deliveryReported: {
        outboundMessageId: sid,
        delivered: status === 'delivered',
        errorCode,
        detail: errorCode === TWILIO_WINDOW_CLOSED ? `${status}: ${TWILIO_WINDOW_CLOSED_WORDS}` : status,
        permanent: status !== 'delivered',
      },
    },
  });
}
