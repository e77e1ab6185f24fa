// Others dialled into a call's conference: an expert the agent consults (the warm transfer's
// first step), and a supervisor who listens (muted), whispers to the agent (coaching the agent's
// leg, unheard by the caller) or barges in. Who may do which, and the participant each is. No I/O.
import { eventId } from '#libs/contact';
import { Channel, ConversationEvent } from '#libs/proto';
import type { Caller } from '#libs/auth';
import { CallControlError } from './call-controls';
import type { Call } from './store';

const DIAL_IN_ACTIONS = ['consult', 'listen', 'whisper', 'barge'] as const;
type DialInAction = (typeof DIAL_IN_ACTIONS)[number];

export interface DialIn {
  conversationId: string;
  action: DialInAction;
  /** Who is consulted (consult only). */
  toAgentId: string;
}

/** The participant Twilio is asked to add (its Participants resource's fields). */
export interface ParticipantToAdd {
  label: 'consult' | 'monitor';
  muted: boolean;
  coaching: boolean;
  callSidToCoach?: string;
  startConferenceOnEnter: true;
  endConferenceOnExit: false;
}

export function isDialIn(body: unknown): boolean {
  const action = (body as { action?: unknown } | null)?.action;
  return typeof action === 'string' && (DIAL_IN_ACTIONS as readonly string[]).includes(action);
}

/** A dial-in as the desk sends it (the conversation id is checked with the other controls). */
export function readDialIn(body: Record<string, unknown>, conversationId: string): DialIn {
  const action = body.action as DialInAction;
  const toAgentId = body.toAgentId === undefined ? '' : body.toAgentId;
  if (typeof toAgentId !== 'string') throw new CallControlError('invalid', 'toAgentId: must be a staff id');
  if (action === 'consult' ? !/^[a-z0-9][a-z0-9._-]{1,63}$/.test(toAgentId) : toAgentId !== '') {
    throw new CallControlError(
      'invalid',
      action === 'consult' ? 'toAgentId: the staff id of the expert to consult' : 'toAgentId: only with the consult action',
    );
  }
  return { conversationId, action, toAgentId };
}

/**
 * Who is dialled in (their staff id) and as what. A consult is the bridged agent's, of someone
 * else; listening, whispering and barging are for supervisors, on any live call.
 */
export function planDialIn(call: Call | undefined, dialIn: DialIn, caller: Caller): { staffId: string; participant: ParticipantToAdd } {
  const bridge = call?.bridge;
  if (!call || !bridge) throw new CallControlError('no-call', 'this conversation has no call bridged to an agent');
  if (call.endedAt) throw new CallControlError('conflict', 'the call has ended');
  const base = { startConferenceOnEnter: true, endConferenceOnExit: false } as const;
  if (dialIn.action === 'consult') {
    if (caller.role !== 'agent' && caller.role !== 'expert') throw new CallControlError('not-yours', `a ${caller.role} does not consult on calls`);
    if (bridge.agentId !== caller.id) throw new CallControlError('not-yours', 'this call is bridged to another agent');
    if (dialIn.toAgentId === caller.id) throw new CallControlError('invalid', 'toAgentId: consult someone other than yourself');
    return { staffId: dialIn.toAgentId, participant: { ...base, label: 'consult', muted: false, coaching: false } };
  }
  if (caller.role !== 'supervisor') throw new CallControlError('not-yours', 'listening, whispering and barging in are for supervisors');
  const participant: ParticipantToAdd =
    dialIn.action === 'whisper'
      ? { ...base, label: 'monitor', muted: false, coaching: true, callSidToCoach: bridge.agentCallSid }
      : { ...base, label: 'monitor', muted: dialIn.action === 'listen', coaching: false };
  return { staffId: caller.id, participant };
}

/** The dial-in as an event on the conversation: who joined whose call, and how. */
export function dialledIn(dialIn: DialIn, by: string, legSid: string, controlId: string, at: Date): ConversationEvent {
  const whom = dialIn.action === 'consult' ? ` ${dialIn.toAgentId}` : '';
  return ConversationEvent.fromPartial({
    eventId: eventId('sms-voice', 'call-control', controlId),
    conversationId: dialIn.conversationId,
    occurredAt: at,
    channel: Channel.CHANNEL_VOICE,
    reason: { code: `call.${dialIn.action}`, text: `${dialIn.action}${whom} by ${by}` },
    step: { $case: 'callControlled', callControlled: { action: dialIn.action, by, callSid: legSid, toneCount: 0, note: dialIn.toAgentId } },
  });
}
