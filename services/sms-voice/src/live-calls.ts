// The state of live calls for a supervisor's monitor list: which of the conversations asked about
// are calls still going on, and whether each is waiting for its agent, connected, on hold or
// consulting an expert. No I/O; the control edge reads the calls by conversation.
import { CallControlError } from './call-controls';
import type { Call } from './store';

/** The most conversations one request asks about: the desk's list is one page of 200. */
const MAX_LIVE_CALLS_ASKED = 200;

export type LiveCallState = 'ringing' | 'bridged' | 'on hold' | 'consulting' | 'ended';

export interface LiveCallStatus {
  conversationId: string;
  state: LiveCallState;
  /** The agent whose line is in the call's conference; empty before one is. */
  agentId: string;
  /** When the call came in (epoch ms). */
  since: number;
}

/** The conversation ids a supervisor's list asks about, checked. */
export function readLiveCallsAsked(body: unknown): string[] {
  const ids = (body as { conversationIds?: unknown } | null)?.conversationIds;
  if (!Array.isArray(ids)) throw new CallControlError('invalid', 'conversationIds: must be a list of call conversations');
  if (ids.length > MAX_LIVE_CALLS_ASKED) throw new CallControlError('invalid', `conversationIds: at most ${MAX_LIVE_CALLS_ASKED}`);
  for (const id of ids)
    if (typeof id !== 'string' || !/^conv-CA[0-9a-fA-F]{32}$/.test(id))
      throw new CallControlError('invalid', 'conversationIds: each must be the conversation of a call (conv-CA…)');
  return [...new Set(ids as string[])];
}

/**
 * What a call is doing now. Before its bridge the caller waits while routing rings an agent; a
 * held caller with an expert dialled in is a consult (warm transfer's first step).
 */
export function liveCallState(call: Call): LiveCallState {
  if (call.endedAt) return 'ended';
  if (!call.bridge) return 'ringing';
  if (call.held) return (call.legs ?? []).some((l) => l.label === 'consult') ? 'consulting' : 'on hold';
  return 'bridged';
}

export function liveCallStatus(call: Call): LiveCallStatus {
  return { conversationId: call.conversationId, state: liveCallState(call), agentId: call.bridge?.agentId ?? '', since: call.startedAt.getTime() };
}
