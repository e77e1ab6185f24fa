// What a live call is doing, for a supervisor's monitor list, and the ids the desk may ask about.
import { describe, expect, it } from 'vitest';
import { liveCallState, liveCallStatus, readLiveCallsAsked } from '../src/live-calls';
import type { Call } from '../src/store';

const call = (over: Partial<Call> = {}): Call => ({
  _id: `CA${'1'.repeat(32)}`,
  conversationId: `conv-CA${'1'.repeat(32)}`,
  customer: '+14155550100',
  company: '+14155550000',
  startedAt: new Date(1000),
  ...over,
});
const bridge = { agentId: 'ana', agentCallSid: `CA${'2'.repeat(32)}`, conferenceSid: `CF${'3'.repeat(32)}`, conference: `conv-CA${'1'.repeat(32)}` };

describe('a live call for the monitor list', () => {
  it('rings until bridged, then is bridged, on hold, consulting (held with an expert in), ended', () => {
    expect(liveCallState(call())).toBe('ringing');
    expect(liveCallState(call({ bridge }))).toBe('bridged');
    expect(liveCallState(call({ bridge, held: true }))).toBe('on hold');
    const consult = { staffId: 'max', callSid: `CA${'4'.repeat(32)}`, label: 'consult' as const };
    expect(liveCallState(call({ bridge, held: true, legs: [consult] }))).toBe('consulting');
    // A supervisor listening does not make the call a consult; a consult brought back is a three-way call.
    expect(liveCallState(call({ bridge, held: true, legs: [{ ...consult, label: 'monitor' }] }))).toBe('on hold');
    expect(liveCallState(call({ bridge, legs: [consult] }))).toBe('bridged');
    expect(liveCallState(call({ bridge, endedAt: new Date(2000) }))).toBe('ended');
    expect(liveCallStatus(call({ bridge }))).toEqual({ conversationId: `conv-CA${'1'.repeat(32)}`, state: 'bridged', agentId: 'ana', since: 1000 });
  });

  it('takes up to 200 call conversations, once each, and names what is wrong otherwise', () => {
    const id = `conv-CA${'a'.repeat(32)}`;
    expect(readLiveCallsAsked({ conversationIds: [id, id] })).toEqual([id]);
    expect(() => readLiveCallsAsked({})).toThrow(/must be a list/);
    expect(() => readLiveCallsAsked(null)).toThrow(/must be a list/);
    expect(() => readLiveCallsAsked({ conversationIds: ['conv-chat-1'] })).toThrow(/conversation of a call/);
    expect(() => readLiveCallsAsked({ conversationIds: Array.from({ length: 201 }, () => id) })).toThrow(/at most 200/);
  });
});
