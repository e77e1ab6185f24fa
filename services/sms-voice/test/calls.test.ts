// What a call becomes and what the caller hears, and the status each webhook failure gets,
// without Twilio or a store.
import { describe, expect, it } from 'vitest';
import { KafkaUnavailableError } from '#libs/kafka';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import {
  agentAddress,
  answerCall,
  askSurvey,
  bridgeTarget,
  callerToConference,
  incomingCall,
  LINES_BUSY,
  SURVEY_DIGITS_PATH,
  surveyAnswered,
  whileWaiting,
} from '../src/calls';
import { InvalidNumberError } from '../src/sms';
import { SpoolRefusedError } from '../src/spool';
import { keywordReply } from '../src/texts';
import { BadSignatureError, MissingFieldError, UnknownCallError, webhookReplyTo } from '../src/webhook-errors';
import { WebhookFormError } from '../src/webhook-form';

const call = { conversationId: 'conv-CA1', customer: '+14155550123', company: '+14155550100' };

describe('calls', () => {
  it('a call is a contact opening its conversation; a spooled one stands as a callback request to the caller', () => {
    const at = new Date('2026-01-01T10:00:00Z');
    const { contact, whenSpooled } = incomingCall('CA1', call, at);
    expect(contact).toMatchObject({ contactId: 'call-CA1', conversationId: 'conv-CA1', newConversation: true, channelMetadata: { 'call-sid': 'CA1' } });
    expect(whenSpooled).toMatchObject({
      contactId: 'callback-CA1',
      newConversation: true,
      channelMetadata: { 'callback-number': call.customer, 'callback-reason': 'lines-busy' },
    });
  });

  it('queues a caller, or says the lines are busy when the call was only spooled; offers a callback on a long wait', () => {
    expect(answerCall('published', 'https://cc.test')).toContain('action="https://cc.test/twilio/voice/queue-result" method="POST">support</Enqueue>');
    expect(answerCall('spooled', 'https://cc.test')).toContain(`<Say>${LINES_BUSY}</Say><Hangup/>`);
    expect(whileWaiting(3, 240_000, true, 'https://cc.test')).toContain('<Gather');
    expect(whileWaiting(1, 30_000, false, 'https://cc.test')).not.toContain('<Gather');
  });

  it("bridges to the agent's number, else to a softphone under a usable agent id", () => {
    expect(bridgeTarget('+14155550199', 'agent-ana')).toEqual({ number: '+14155550199' });
    expect(bridgeTarget('', 'agent-ana')).toEqual({ clientId: 'agent-ana' });
    expect(bridgeTarget('', 'not a client id')).toBeUndefined();
    expect(agentAddress({ clientId: 'agent-ana' })).toBe('client:agent-ana');
    expect(agentAddress({ number: '+14155550199' })).toBe('+14155550199');
  });

  it('puts the caller in the conference of their conversation, waiting with music until the agent joins', () => {
    const twiml = callerToConference('conv-CA1', 'https://music.test/hold?a=1&b=2');
    expect(XMLValidator.validate(twiml)).toBe(true);
    const conference = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false }).parse(twiml).Response.Dial.Conference;
    expect(conference).toMatchObject({
      '#text': 'conv-CA1',
      '@startConferenceOnEnter': 'false',
      '@endConferenceOnExit': 'true',
      '@waitUrl': 'https://music.test/hold?a=1&b=2',
      '@waitMethod': 'GET',
    });
  });

  it('answers HELP, and nothing for other keywords', () => {
    expect(keywordReply('help')).toContain('<Message>Reply with your question');
    expect(keywordReply('stop')).not.toContain('<Message>');
  });
});

describe('webhook replies', () => {
  it('gives each failure its status: refusals theirs, a bad number 400, Kafka and spool both unable 503, anything else 500', () => {
    const status = (err: unknown) => webhookReplyTo(err).status;
    expect([new BadSignatureError(), new MissingFieldError('CallSid'), new UnknownCallError('CA1'), new WebhookFormError(415, 'x')].map(status)).toEqual([
      403, 400, 404, 415,
    ]);
    expect(status(new InvalidNumberError('From', 'abc'))).toBe(400);
    expect(webhookReplyTo(new SpoolRefusedError('full')).headers['retry-after']).toBe('5');
    expect(status(new KafkaUnavailableError('no ack'))).toBe(503);
    expect(webhookReplyTo(new WebhookFormError(413, 'too big')).headers.connection).toBe('close');
    expect(webhookReplyTo(new Error('a bug'))).toEqual({ status: 500, headers: { 'content-type': 'text/plain' }, body: 'internal error' });
    expect(webhookReplyTo(new MissingFieldError('CallSid')).body).toBe('CallSid is missing or malformed');
  });
});

describe('the survey at the end of a call', () => {
  const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });

  it('asks for one keypad digit, posted to the signed survey webhook, and says goodbye when none comes', () => {
    const twiml = askSurvey('https://cc.example.com');
    expect(XMLValidator.validate(twiml)).toBe(true);
    const { Response } = xml.parse(twiml);
    expect(Response.Gather).toMatchObject({
      '@input': 'dtmf',
      '@numDigits': '1',
      '@action': `https://cc.example.com${SURVEY_DIGITS_PATH}`,
      '@method': 'POST',
      Say: expect.stringContaining('1, poor, to 5, excellent'),
    });
    expect(Response.Say).toBe('Thank you for calling. Goodbye.');
    expect(Response).toHaveProperty('Hangup');
  });

  it('answers each outcome of the digit with words and a hang-up', () => {
    for (const outcome of ['answered', 'already-answered', 'not-an-answer'] as const) {
      const twiml = surveyAnswered(outcome);
      expect(XMLValidator.validate(twiml)).toBe(true);
      expect(xml.parse(twiml).Response).toMatchObject({ Say: expect.stringMatching(/Goodbye\.$/), Hangup: '' });
    }
  });
});
