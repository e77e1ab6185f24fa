// What an agent's call control does to a call run as a conference: the one Twilio request it
// takes (a participant's mute or hold, the caller's leg hung up or played keypad tones), the
// call's state after it, and the event it is on the conversation. No I/O.
import twilio from 'twilio';
import { eventId } from '#libs/contact';
import { Channel, ConversationEvent } from '#libs/proto';
import { callerToConference } from './calls';
import type { Call } from './store';

const { VoiceResponse } = twilio.twiml;

const CALL_ACTIONS = ['mute', 'unmute', 'hold', 'resume', 'hang-up', 'keypad', 'wrap-up'] as const;
export type CallAction = (typeof CALL_ACTIONS)[number];

export interface CallControl {
  conversationId: string;
  action: CallAction;
  /** Keypad tones: 0-9, * and #, w for a half-second pause. */
  digits: string;
  /** The wrap-up note. */
  note: string;
}

/** Why a control is refused; its status is given in the control edge (control-edge.ts). */
export class CallControlError extends Error {
  constructor(
    readonly kind: 'invalid' | 'not-yours' | 'no-call' | 'conflict',
    message: string,
  ) {
    super(message);
    this.name = 'CallControlError';
  }
}

const invalid = (message: string) => new CallControlError('invalid', message);

/** A control as the desk sends it, checked field by field. */
export function readCallControl(body: unknown): CallControl {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw invalid('the body must be a JSON object');
  const b = body as Record<string, unknown>;
  const text = (name: string) => (b[name] === undefined ? '' : typeof b[name] === 'string' ? b[name] : undefined);
  const conversationId = text('conversationId');
  if (!conversationId || !/^conv-CA[0-9a-fA-F]{32}$/.test(conversationId)) throw invalid('conversationId: must be the conversation of a call (conv-CA…)');
  const action = text('action') ?? '';
  if (!(CALL_ACTIONS as readonly string[]).includes(action)) throw invalid(`action: must be one of ${CALL_ACTIONS.join(', ')}`);
  const digits = text('digits');
  if (digits === undefined || (action === 'keypad' ? !/^[0-9*#w]{1,32}$/.test(digits) : digits !== '')) {
    throw invalid(action === 'keypad' ? 'digits: 1 to 32 of 0-9, *, # and w (a pause)' : 'digits: only with the keypad action');
  }
  const note = text('note');
  if (note === undefined || note.length > 2000 || (action !== 'wrap-up' && note !== '')) {
    throw invalid(action === 'wrap-up' ? 'note: text of at most 2000 characters' : 'note: only with the wrap-up action');
  }
  return { conversationId, action: action as CallAction, digits, note };
}

export type TwilioStep =
  | { resource: 'participant'; conferenceSid: string; callSid: string; update: { muted: boolean } | { hold: boolean; holdUrl?: string; holdMethod?: 'GET' } }
  | { resource: 'call'; callSid: string; update: { status: 'completed' } | { twiml: string } }
  | { resource: 'none' };

export interface ControlPlan {
  step: TwilioStep;
  /** The call's hold and mute state once the step is done. */
  state: Pick<Call, 'held' | 'agentMuted'>;
  /** The leg acted on, for the event. */
  callSid: string;
}

/** The step a control takes on `call`, for the agent `agentId`; refused when it is not theirs or makes no sense now. */
export function planControl(call: Call | undefined, control: CallControl, agentId: string, holdMusicUrl: string): ControlPlan {
  const bridge = call?.bridge;
  if (!call || !bridge) throw new CallControlError('no-call', 'this conversation has no call bridged to an agent');
  if (bridge.agentId !== agentId) throw new CallControlError('not-yours', 'this call is bridged to another agent');
  const state = { held: call.held ?? false, agentMuted: call.agentMuted ?? false };
  if (control.action === 'wrap-up') {
    if (!call.endedAt) throw new CallControlError('conflict', 'wrap-up comes after the call: hang up first');
    return { step: { resource: 'none' }, state, callSid: call._id };
  }
  if (call.endedAt) throw new CallControlError('conflict', 'the call has ended');
  const onAgent = (muted: boolean): ControlPlan => {
    if (state.agentMuted === muted) throw new CallControlError('conflict', muted ? 'your line is already muted' : 'your line is not muted');
    return {
      step: { resource: 'participant', conferenceSid: bridge.conferenceSid, callSid: bridge.agentCallSid, update: { muted } },
      state: { ...state, agentMuted: muted },
      callSid: bridge.agentCallSid,
    };
  };
  const onCaller = (update: Extract<TwilioStep, { resource: 'participant' }>['update'], next = state): ControlPlan => ({
    step: { resource: 'participant', conferenceSid: bridge.conferenceSid, callSid: call._id, update },
    state: next,
    callSid: call._id,
  });
  switch (control.action) {
    case 'mute':
      return onAgent(true);
    case 'unmute':
      return onAgent(false);
    case 'hold':
      if (state.held) throw new CallControlError('conflict', 'the caller is already on hold');
      return onCaller({ hold: true, holdUrl: holdMusicUrl, holdMethod: 'GET' }, { ...state, held: true });
    case 'resume':
      if (!state.held) throw new CallControlError('conflict', 'the caller is not on hold');
      return onCaller({ hold: false }, { ...state, held: false });
    case 'hang-up':
      return { step: { resource: 'call', callSid: call._id, update: { status: 'completed' } }, state, callSid: call._id };
    case 'keypad':
      // Tones go to the caller's side; the new TwiML then puts the caller back in the conference.
      return {
        step: { resource: 'call', callSid: call._id, update: { twiml: keypadTones(control.digits, bridge.conference, holdMusicUrl) } },
        state: { ...state, held: false },
        callSid: call._id,
      };
  }
}

/** Keypad tones played on the caller's leg, which then rejoins the call's conference. */
export function keypadTones(digits: string, conference: string, holdMusicUrl: string): string {
  const twiml = new VoiceResponse();
  twiml.play({ digits });
  return callerToConference(conference, holdMusicUrl, twiml);
}

/** The control as an event on the conversation; `controlId` names this one request, so its retry is the same event. */
export function callControlled(control: CallControl, plan: ControlPlan, by: string, controlId: string, at: Date): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: eventId('sms-voice', 'call-control', controlId),
    conversationId: control.conversationId,
    occurredAt: at,
    channel: Channel.CHANNEL_VOICE,
    reason: { code: `call.${control.action}`, text: `${control.action} by ${by}` },
    step: {
      $case: 'callControlled',
      callControlled: { action: control.action, by, callSid: plan.callSid, toneCount: control.digits.replace(/w/g, '').length, note: control.note },
    },
  });
}
