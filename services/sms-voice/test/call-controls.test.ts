// Call controls without Twilio or a store: what each does to a call run as a conference, and what is refused.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { callControlled, CallControlError, keypadTones, planControl, readCallControl, type CallControl } from '../src/call-controls';
import type { Call } from '../src/store';

const CALLER = `CA${'1'.repeat(32)}`;
const AGENT_LEG = `CA${'2'.repeat(32)}`;
const MUSIC = 'https://music.test/hold';
const conversationId = `conv-${CALLER}`;
const call: Call = {
  _id: CALLER,
  conversationId,
  customer: '+14155550123',
  company: '+14155550100',
  startedAt: new Date(),
  bridge: { agentId: 'ana', agentCallSid: AGENT_LEG, conferenceSid: `CF${'3'.repeat(32)}`, conference: conversationId },
};
const control = (action: string, extra: Record<string, string> = {}): CallControl => readCallControl({ conversationId, action, ...extra });
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof CallControlError) return [err.kind, err.message];
    throw err;
  }
  return undefined;
};
const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

describe('call controls', () => {
  it('reads a control field by field, naming the field that is wrong', () => {
    expect(control('keypad', { digits: '12#' })).toEqual({ conversationId, action: 'keypad', digits: '12#', note: '' });
    expect(refusal(() => readCallControl({ conversationId: 'conv-SM1', action: 'hold' }))).toEqual(['invalid', expect.stringMatching(/^conversationId:/)]);
    expect(refusal(() => control('transfer'))).toEqual(['invalid', expect.stringMatching(/^action: must be one of mute, unmute/)]);
    expect(refusal(() => control('keypad', { digits: '12a' }))).toEqual(['invalid', expect.stringMatching(/^digits:/)]);
    expect(refusal(() => control('hold', { digits: '1' }))).toEqual(['invalid', 'digits: only with the keypad action']);
    expect(refusal(() => control('wrap-up', { note: 'x'.repeat(2001) }))).toEqual(['invalid', expect.stringMatching(/^note:/)]);
    expect(refusal(() => readCallControl([]))).toEqual(['invalid', 'the body must be a JSON object']);
  });

  it('mutes the agent, holds the caller with music, resumes, and hangs up the caller', () => {
    expect(planControl(call, control('mute'), 'ana', MUSIC)).toEqual({
      step: { resource: 'participant', conferenceSid: call.bridge!.conferenceSid, callSid: AGENT_LEG, update: { muted: true } },
      state: { held: false, agentMuted: true },
      callSid: AGENT_LEG,
    });
    expect(planControl(call, control('hold'), 'ana', MUSIC).step).toEqual({
      resource: 'participant',
      conferenceSid: call.bridge!.conferenceSid,
      callSid: CALLER,
      update: { hold: true, holdUrl: MUSIC, holdMethod: 'GET' },
    });
    expect(planControl({ ...call, held: true }, control('resume'), 'ana', MUSIC)).toMatchObject({ step: { update: { hold: false } }, state: { held: false } });
    expect(planControl(call, control('hang-up'), 'ana', MUSIC).step).toEqual({ resource: 'call', callSid: CALLER, update: { status: 'completed' } });
  });

  it('plays keypad tones to the caller, who then rejoins the conference', () => {
    const twiml = keypadTones('1w2#', conversationId, MUSIC);
    expect(XMLValidator.validate(twiml)).toBe(true);
    const { Response } = xml.parse(twiml);
    expect(Response.Play).toMatchObject({ '@digits': '1w2#' });
    expect(Response.Dial.Conference['#text']).toBe(conversationId);
    expect(planControl(call, control('keypad', { digits: '5' }), 'ana', MUSIC).step).toMatchObject({ resource: 'call', callSid: CALLER });
  });

  it("refuses another agent's call, a control that changes nothing, and wrap-up before the end", () => {
    expect(refusal(() => planControl(call, control('hold'), 'max', MUSIC))).toEqual(['not-yours', 'this call is bridged to another agent']);
    expect(refusal(() => planControl({ ...call, bridge: undefined }, control('hold'), 'ana', MUSIC))?.[0]).toBe('no-call');
    expect(refusal(() => planControl(undefined, control('hold'), 'ana', MUSIC))?.[0]).toBe('no-call');
    expect(refusal(() => planControl({ ...call, held: true }, control('hold'), 'ana', MUSIC))).toEqual(['conflict', 'the caller is already on hold']);
    expect(refusal(() => planControl(call, control('unmute'), 'ana', MUSIC))).toEqual(['conflict', 'your line is not muted']);
    expect(refusal(() => planControl(call, control('wrap-up'), 'ana', MUSIC))?.[0]).toBe('conflict');
    const ended = { ...call, endedAt: new Date() };
    expect(refusal(() => planControl(ended, control('mute'), 'ana', MUSIC))).toEqual(['conflict', 'the call has ended']);
    expect(planControl(ended, control('wrap-up', { note: 'refund promised' }), 'ana', MUSIC).step).toEqual({ resource: 'none' });
  });

  it('is an event on the conversation that counts keypad tones without keeping them', () => {
    const keypad = control('keypad', { digits: '12w34#' });
    const event = callControlled(keypad, planControl(call, keypad, 'ana', MUSIC), 'ana', 'c-1', new Date());
    expect(event).toMatchObject({
      eventId: 'call-control-c-1',
      conversationId,
      reason: { code: 'call.keypad' },
      step: { $case: 'callControlled', callControlled: { action: 'keypad', by: 'ana', callSid: CALLER, toneCount: 5 } },
    });
    expect(JSON.stringify(event)).not.toContain('12w34#');
  });
});
