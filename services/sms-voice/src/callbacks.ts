// Calling a customer back: the TwiML their phone plays when they answer (then the agent is
// dialled and bridged), what each status of the outbound call means for the callback, and
// what the caller is told of the expected callback time when asking. No I/O.
import twilio from 'twilio';
import { eventId } from '#libs/contact';
import { CallbackOutcome, Channel, ConversationEvent } from '#libs/proto';
import { callerToConference } from './calls';
import { recordedCallerToConference } from './recordings';
import { waitInWords } from './sms';
import { MissingFieldError } from './webhook-errors';

const { VoiceResponse } = twilio.twiml;

/** Where Twilio reports the outbound call's progress. */
export const CALLBACK_STATUS_PATH = '/twilio/voice/callback-status';

/**
 * The status callback URL of an attempt names its conversation and attempt: Twilio signs the
 * URL with its query, and the status may come before anything could be written after the
 * call was created.
 */
export function callbackStatusUrl(base: string, conversationId: string, attempt: number): string {
  return `${base}${CALLBACK_STATUS_PATH}?${new URLSearchParams({ conversation: conversationId, attempt: String(attempt) }).toString()}`;
}

export function callbackOfStatusUrl(query: URLSearchParams): { conversationId: string; attempt: number } {
  const conversationId = query.get('conversation') ?? '';
  const attempt = Number(query.get('attempt'));
  if (!/^[A-Za-z0-9_.:-]{1,200}$/.test(conversationId)) throw new MissingFieldError('conversation');
  if (!Number.isInteger(attempt) || attempt < 1 || attempt > 99) throw new MissingFieldError('attempt');
  return { conversationId, attempt };
}

/** Said to the customer on answering the callback, before the agent's phone rings. */
export const CALLBACK_GREETING = 'Hello, this is the call back you asked for. Please hold while we connect you to an agent.';

/**
 * What the customer's phone plays when they answer: the greeting (and, in a queue that records,
 * the consent announcement), then the conference named after the conversation, exactly as an
 * inbound caller joins it; the agent is dialled into it once the answer is reported.
 */
export function callbackAnswered(conference: string, holdMusicUrl: string, recorded?: { consent: string; callbackUrl: string }): string {
  const twiml = new VoiceResponse();
  twiml.say(CALLBACK_GREETING);
  return recorded
    ? recordedCallerToConference(conference, holdMusicUrl, recorded.consent, recorded.callbackUrl, twiml)
    : callerToConference(conference, holdMusicUrl, twiml);
}

/** The statuses of a callback's call that say the customer picked up: the agent is dialled in. */
export function customerPickedUp(callStatus: string): boolean {
  return callStatus === 'in-progress' || callStatus === 'answered';
}

/**
 * What a status of the outbound call says of the attempt; undefined for a status on the way
 * (queued, initiated, ringing). `completed` is a call that was answered and has ended;
 * `canceled` one withdrawn before it was answered.
 */
export function attemptOutcome(callStatus: string): CallbackOutcome | undefined {
  switch (callStatus) {
    case 'in-progress':
    case 'answered':
    case 'completed':
      return CallbackOutcome.CALLBACK_OUTCOME_ANSWERED;
    case 'no-answer':
      return CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER;
    case 'busy':
      return CallbackOutcome.CALLBACK_OUTCOME_BUSY;
    case 'failed':
    case 'canceled':
      return CallbackOutcome.CALLBACK_OUTCOME_FAILED;
    default:
      return undefined;
  }
}

/**
 * The attempt's outcome as a conversation event; the same outcome of the same call (or, for a
 * call never made, of the same message) has the same id.
 */
export function attemptReported(
  callSid: string,
  conversationId: string,
  attempt: number,
  outcome: CallbackOutcome,
  status: string,
  at: Date,
  messageId = '',
): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: eventId('sms-voice', 'callback-attempt', callSid || messageId, outcome),
    conversationId,
    occurredAt: at,
    channel: Channel.CHANNEL_VOICE,
    reason: { code: `callback.${status}`, text: `callback attempt ${attempt}: ${status}` },
    step: { $case: 'callbackProgress', callbackProgress: { outcome, attempt, callSid } },
  });
}

/**
 * The agent could not be dialled into the call's conference (an inbound call being connected, a
 * callback the customer answered): routing gives the conversation to another agent. One id per
 * outbound message that asked for the dial-in, so a redelivery reports it once.
 */
export function agentDialInFailed(
  conversationId: string,
  dialIn: { agentId: string; code: string; callbackAttempt: number; messageId: string },
  at: Date,
): ConversationEvent {
  const what = dialIn.callbackAttempt ? `the answered callback (attempt ${dialIn.callbackAttempt})` : 'the call';
  return ConversationEvent.fromPartial({
    eventId: eventId('sms-voice', 'agent-dial-in', dialIn.messageId, 'failed'),
    conversationId,
    occurredAt: at,
    channel: Channel.CHANNEL_VOICE,
    reason: { code: 'call.agent_unreachable', text: `the agent could not be dialled into ${what}: ${dialIn.code}` },
    step: { $case: 'agentDialInFailed', agentDialInFailed: { agentId: dialIn.agentId, code: dialIn.code, callbackAttempt: dialIn.callbackAttempt } },
  });
}

/**
 * The confirmation a caller hears on asking for a callback: when to expect it (the wait
 * estimate, closed time included) and that they may hang up.
 */
export function callbackPromisedIn(estimate: { estimatedWaitMs: number; closedNotice?: string } | undefined): string {
  const response = new VoiceResponse();
  if (!estimate) response.say('Thank you. We will call you back as soon as an agent is free. Goodbye.');
  else if (estimate.closedNotice) response.say(`Thank you. We will call you back once we are open, in ${waitInWords(estimate.estimatedWaitMs)}. Goodbye.`);
  else response.say(`Thank you. We will call you back in ${waitInWords(estimate.estimatedWaitMs)}, keeping your place in the queue. Goodbye.`);
  response.leave();
  return response.toString();
}
