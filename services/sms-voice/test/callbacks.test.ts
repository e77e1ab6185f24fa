import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { CallbackOutcome } from '#libs/proto';
import { attemptOutcome, attemptReported, CALLBACK_GREETING, callbackAnswered, callbackPromisedIn, customerPickedUp } from '../src/callbacks';

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });
const parsed = (twiml: string) => {
  expect(XMLValidator.validate(twiml)).toBe(true);
  return (xml.parse(twiml) as { Response: Record<string, unknown> }).Response;
};

describe('calling a customer back', () => {
  it('greets the customer who answers, then puts them in the conversation’s conference as an inbound caller joins it', () => {
    const conference = {
      '@startConferenceOnEnter': 'false',
      '@endConferenceOnExit': 'true',
      '@beep': 'false',
      '@waitUrl': 'https://music.example/hold.mp3',
      '@waitMethod': 'GET',
      '#text': 'conv-CA1',
    };
    expect(parsed(callbackAnswered('conv-CA1', 'https://music.example/hold.mp3'))).toEqual({ Say: CALLBACK_GREETING, Dial: { Conference: conference } });
    // In a queue that records: the consent is heard before the conference, which records from its start.
    const recorded = parsed(
      callbackAnswered('conv-CA1', 'https://music.example/hold.mp3', { consent: 'This call is recorded.', callbackUrl: 'https://sv.example/rec?CallSid=CA1' }),
    );
    expect(recorded.Say).toEqual([CALLBACK_GREETING, 'This call is recorded.']);
    expect(recorded.Dial).toEqual({
      Conference: {
        ...conference,
        '@record': 'record-from-start',
        '@recordingStatusCallback': 'https://sv.example/rec?CallSid=CA1',
        '@recordingStatusCallbackMethod': 'POST',
      },
    });
  });

  it('dials the agent in only when the customer picks up', () => {
    expect(customerPickedUp('in-progress')).toBe(true);
    expect(customerPickedUp('answered')).toBe(true);
    for (const status of ['ringing', 'completed', 'no-answer', 'busy']) expect(customerPickedUp(status)).toBe(false);
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
