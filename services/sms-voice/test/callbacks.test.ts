import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { CallbackOutcome } from '#libs/proto';
import { attemptOutcome, attemptReported, CALLBACK_GREETING, callbackAnswered, callbackPromisedIn } from '../src/callbacks';

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });
const parsed = (twiml: string) => {
  expect(XMLValidator.validate(twiml)).toBe(true);
  return (xml.parse(twiml) as { Response: Record<string, unknown> }).Response;
};

describe('calling a customer back', () => {
  it('greets the customer who answers, then dials the agent showing the customer’s number', () => {
    expect(parsed(callbackAnswered('+33612345678', { clientId: 'ann' }))).toEqual({
      Say: CALLBACK_GREETING,
      Dial: { '@callerId': '+33612345678', Client: 'ann' },
    });
    expect(parsed(callbackAnswered('+33612345678', { number: '+33123456789' })).Dial).toEqual({ '@callerId': '+33612345678', Number: '+33123456789' });
  });

  it('reads each final status of the outbound call as the attempt’s outcome, and none on the way', () => {
    expect(attemptOutcome('completed')).toBe(CallbackOutcome.CALLBACK_OUTCOME_ANSWERED);
    expect(attemptOutcome('in-progress')).toBe(CallbackOutcome.CALLBACK_OUTCOME_ANSWERED);
    expect(attemptOutcome('no-answer')).toBe(CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER);
    expect(attemptOutcome('busy')).toBe(CallbackOutcome.CALLBACK_OUTCOME_BUSY);
    expect(attemptOutcome('failed')).toBe(CallbackOutcome.CALLBACK_OUTCOME_FAILED);
    expect(attemptOutcome('canceled')).toBe(CallbackOutcome.CALLBACK_OUTCOME_FAILED);
    for (const status of ['queued', 'initiated', 'ringing']) expect(attemptOutcome(status)).toBeUndefined();
  });

  it('reports an outcome once per call: a repeated status callback has the same event id', () => {
    const at = new Date(0);
    const a = attemptReported('CA1', 'conv-CA0', 2, CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER, 'no-answer', at);
    expect(a.step).toEqual({
      $case: 'callbackProgress',
      callbackProgress: expect.objectContaining({ outcome: CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER, attempt: 2, callSid: 'CA1' }),
    });
    expect(attemptReported('CA1', 'conv-CA0', 2, CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER, 'no-answer', at).eventId).toBe(a.eventId);
    expect(attemptReported('CA1', 'conv-CA0', 2, CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, 'completed', at).eventId).not.toBe(a.eventId);
  });

  it('tells the caller when to expect the callback, closed time included', () => {
    expect(parsed(callbackPromisedIn({ estimatedWaitMs: 6 * 60_000 }))).toEqual({
      Say: 'Thank you. We will call you back in about 6 minutes, keeping your place in the queue. Goodbye.',
      Leave: '',
    });
    expect(parsed(callbackPromisedIn({ estimatedWaitMs: 14 * 3600_000, closedNotice: 'We are closed now' })).Say).toBe(
      'Thank you. We will call you back once we are open, in about 14 hours. Goodbye.',
    );
    expect(parsed(callbackPromisedIn(undefined)).Say).toBe('Thank you. We will call you back as soon as an agent is free. Goodbye.');
  });
});
