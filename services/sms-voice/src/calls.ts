// What a phone call becomes: its contacts and events, and what the caller hears (TwiML). No I/O.
import twilio from 'twilio';
import { eventId } from '#libs/contact';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind } from '#libs/proto';
import { positionInWords, waitInWords } from './sms';

const { VoiceResponse } = twilio.twiml;

/** Who called which number, on which conversation. */
interface CallParties {
  conversationId: string;
  customer: string;
  company: string;
}

/** A call is a conversation of its own, named after its CallSid: a Twilio retry of the incoming webhook finds the same one. */
export function callConversationId(callSid: string): string {
  return `conv-${callSid}`;
}

/** The statuses of a call that has ended, as Twilio's status callback gives them. */
export const CALL_ENDED_STATUSES = ['completed', 'busy', 'failed', 'no-answer', 'canceled'];

/** Said to a caller when the call cannot be queued (Kafka is down) and a callback is spooled instead. */
export const LINES_BUSY = 'All our lines are busy right now. We have your number and will call you back as soon as an agent is free. Goodbye.';

/** A voice contact of a call: who called which number, on the call's conversation. */
function callContact(sid: string, call: CallParties, kind: ContactKind, receivedAt: Date): ContactReceived {
  return ContactReceived.fromPartial({
    conversationId: call.conversationId,
    channel: Channel.CHANNEL_VOICE,
    kind,
    receivedAt,
    sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: call.customer },
    recipient: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: call.company },
    externalId: sid,
    // The number dialled, for routing's rules: each line of the company may go to its own skill.
    subject: `Call to ${call.company}`,
    channelMetadata: { 'call-sid': sid },
  });
}

/** The caller asked to be called back (or was promised a call back): routed as a contact of the call's conversation. */
export function callbackRequest(sid: string, call: CallParties, at: Date): ContactReceived {
  const contact = callContact(sid, call, ContactKind.CONTACT_KIND_CALLBACK_REQUEST, at);
  return { ...contact, contactId: eventId('sms-voice', 'callback', sid), channelMetadata: { ...contact.channelMetadata, 'callback-number': call.customer } };
}

/** The call itself, and the callback request that stands for it when it cannot be queued (the lines are busy). */
export function incomingCall(sid: string, call: CallParties, at: Date): { contact: ContactReceived; whenSpooled: ContactReceived } {
  const promised = callbackRequest(sid, call, at);
  return {
    contact: { ...callContact(sid, call, ContactKind.CONTACT_KIND_CALL, at), contactId: eventId('sms-voice', 'call', sid), newConversation: true },
    whenSpooled: { ...promised, newConversation: true, channelMetadata: { ...promised.channelMetadata, 'callback-reason': 'lines-busy' } },
  };
}

export function abandonedInQueue(sid: string, conversationId: string, waitedSeconds: number, at: Date): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: eventId('sms-voice', 'abandoned', sid),
    conversationId,
    occurredAt: at,
    channel: Channel.CHANNEL_VOICE,
    reason: { code: 'caller.hung_up_in_queue', text: 'the caller hung up while waiting' },
    step: { $case: 'abandoned', abandoned: { waitedMs: waitedSeconds * 1000 } },
  });
}

export function callEnded(sid: string, conversationId: string, status: string, durationSeconds: number, at: Date): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: eventId('sms-voice', 'call-ended', sid),
    conversationId,
    occurredAt: at,
    channel: Channel.CHANNEL_VOICE,
    reason: { code: `call.${status}`, text: `call ${status}` },
    step: { $case: 'callEnded', callEnded: { durationMs: durationSeconds * 1000, status } },
  });
}

/** The caller is queued, or, when the call could only be spooled, told the lines are busy. */
export function answerCall(outcome: 'published' | 'spooled', base: string): string {
  const response = new VoiceResponse();
  if (outcome === 'spooled') {
    response.say(LINES_BUSY);
    response.hangup();
    return response.toString();
  }
  response.say('Thank you for calling. Please hold while we connect you to the next available agent.');
  response.enqueue({ waitUrl: `${base}/twilio/voice/wait`, waitUrlMethod: 'POST', action: `${base}/twilio/voice/queue-result`, method: 'POST' }, 'support');
  return response.toString();
}

/** Played to a queued caller, again and again: position, estimated wait, and a callback offer when the wait is long. */
export function whileWaiting(position: number, estimateMs: number, offerCallback: boolean, base: string): string {
  const response = new VoiceResponse();
  response.say(`${positionInWords(position)} The expected wait is ${waitInWords(estimateMs)}.`);
  if (offerCallback) {
    const gather = response.gather({ numDigits: 1, action: `${base}/twilio/voice/callback`, method: 'POST', timeout: 5 });
    gather.say('To be called back instead of waiting, press 1.');
  }
  response.pause({ length: 10 });
  return response.toString();
}

export function keepHolding(): string {
  const response = new VoiceResponse();
  response.say('Please keep holding.');
  return response.toString();
}

export function nothingToSay(): string {
  return new VoiceResponse().toString();
}

/**
 * Who a queued call is bridged to: the agent's own phone number when given, otherwise the
 * agent's softphone, registered with Twilio Client under the agent id (how a browser-based desk
 * takes calls); undefined when the agent id cannot be a Twilio Client identity.
 */
export function bridgeTarget(agentNumber: string, agentId: string): { number: string } | { clientId: string } | undefined {
  if (agentNumber) return { number: agentNumber };
  return /^[A-Za-z0-9_.@-]{1,121}$/.test(agentId) ? { clientId: agentId } : undefined;
}

/** How the agent's leg is dialled into the call's conference: their phone, or their softphone as a Twilio Client. */
export function agentAddress(agent: { number: string } | { clientId: string }): string {
  return 'number' in agent ? agent.number : `client:${agent.clientId}`;
}

/** The conference a call runs as: named after its conversation, so consults and monitors find it. */
export function conferenceName(conversationId: string): string {
  return conversationId;
}

/**
 * The caller's side of a call run as a conference: they hear the hold music until the agent
 * joins, and when they hang up the conference ends for everyone in it.
 */
export function callerToConference(conference: string, holdMusicUrl: string, twiml = new VoiceResponse(), recorded: ConferenceRecording = {}): string {
  twiml
    .dial()
    .conference({ startConferenceOnEnter: false, endConferenceOnExit: true, beep: 'false', waitUrl: holdMusicUrl, waitMethod: 'GET', ...recorded }, conference);
  return twiml.toString();
}

/** The `<Conference>` attributes that record it, as Twilio documents them; none for a call not recorded. */
export interface ConferenceRecording {
  record?: 'record-from-start';
  recordingStatusCallback?: string;
  recordingStatusCallbackMethod?: 'POST';
}

/** Where the caller's keypad answer to the survey goes. */
export const SURVEY_DIGITS_PATH = '/twilio/voice/survey';

/** The survey asked of a caller whose call an agent resolved: one digit, 1 to 5, then goodbye. */
export function askSurvey(base: string): string {
  const response = new VoiceResponse();
  const gather = response.gather({ input: ['dtmf'], numDigits: 1, timeout: 8, action: `${base}${SURVEY_DIGITS_PATH}`, method: 'POST' });
  gather.say('Before you go: how did we do? Please press a number from 1, poor, to 5, excellent.');
  // No digit pressed: Twilio goes on past the gather.
  response.say('Thank you for calling. Goodbye.');
  response.hangup();
  return response.toString();
}

const SURVEY_SAID = {
  answered: 'Thank you for your feedback. Goodbye.',
  'already-answered': 'This call was already rated. Thank you. Goodbye.',
  'not-an-answer': 'Sorry, that was not a score from 1 to 5. Thank you for calling. Goodbye.',
};

export function surveyAnswered(outcome: keyof typeof SURVEY_SAID): string {
  const response = new VoiceResponse();
  response.say(SURVEY_SAID[outcome]);
  response.hangup();
  return response.toString();
}
