// Which queues record their calls, the consent TwiML a recorded caller hears before the
// conference, and the recording's event: pure, without Twilio or a store.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '#libs/config';
import { callerToConference } from '../src/calls';
import { smsVoiceConfig } from '../src/config';
import { callRecorded, deletion, queuePatterns, queueRecords, recordedCallerToConference, recordingCallbackUrl, RECORDING_PATH } from '../src/recordings';

const xml = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', parseTagValue: false });
const MUSIC = 'https://music.example/hold.mp3';
const env = { TWILIO_AUTH_TOKEN: 'x'.repeat(32), TWILIO_ACCOUNT_SID: `AC${'0'.repeat(32)}` };

describe('recorded queues', () => {
  it('records the queues named, and those a prefix ending in * matches', () => {
    const patterns = queuePatterns(' billing , sales-* ');
    expect(patterns).toEqual(['billing', 'sales-*']);
    expect(queueRecords('billing', patterns)).toBe(true);
    expect(queueRecords('sales-emea', patterns)).toBe(true);
    expect(queueRecords('billing-2', patterns)).toBe(false);
    expect(queueRecords('support', patterns)).toBe(false);
    expect(queueRecords('', queuePatterns('*'))).toBe(false);
    expect(queueRecords('anything', queuePatterns('*'))).toBe(true);
    expect(queueRecords('billing', queuePatterns(''))).toBe(false);
  });

  it('refuses a setting that is not queue names or prefixes, naming the setting', () => {
    expect(loadConfig(smsVoiceConfig, { ...env, VOICE_RECORDED_QUEUES: 'billing,sales-*' }).VOICE_RECORDED_QUEUES).toBe('billing,sales-*');
    expect(() => loadConfig(smsVoiceConfig, { ...env, VOICE_RECORDED_QUEUES: 'bil*ing' })).toThrow(/VOICE_RECORDED_QUEUES/);
    expect(() => loadConfig(smsVoiceConfig, { ...env, VOICE_RECORDED_QUEUES: 'a b' })).toThrow(/VOICE_RECORDED_QUEUES/);
  });
});

describe('the TwiML of a recorded call', () => {
  it('says the consent announcement before the caller joins a conference recorded from its start', () => {
    const callback = recordingCallbackUrl('https://cc.example.com', 'CA1');
    const twiml = recordedCallerToConference('conv-CA1', MUSIC, 'This call is recorded.', callback);
    expect(XMLValidator.validate(twiml)).toBe(true);
    const response = xml.parse(twiml).Response;
    expect(Object.keys(response)).toEqual(['Say', 'Dial']);
    expect(response.Say).toBe('This call is recorded.');
    expect(response.Dial.Conference).toMatchObject({
      '#text': 'conv-CA1',
      '@record': 'record-from-start',
      '@recordingStatusCallback': `https://cc.example.com${RECORDING_PATH}?CallSid=CA1`,
      '@recordingStatusCallbackMethod': 'POST',
      '@endConferenceOnExit': 'true',
      '@waitUrl': MUSIC,
    });
  });

  it('neither announces nor records a call whose queue does not record', () => {
    const response = xml.parse(callerToConference('conv-CA2', MUSIC)).Response;
    expect(response.Say).toBeUndefined();
    expect(response.Dial.Conference['@record']).toBeUndefined();
    expect(response.Dial.Conference['@recordingStatusCallback']).toBeUndefined();
  });
});

describe('the recording event', () => {
  it('carries the sid, url and duration on the call conversation, one id per recording', () => {
    const at = new Date('2026-12-01T10:00:00Z');
    const recording = { sid: 'RE1', url: 'https://api.twilio.com/rec/RE1', seconds: 42 };
    const event = callRecorded('conv-CA1', 'CA1', recording, at);
    expect(event).toMatchObject({
      conversationId: 'conv-CA1',
      occurredAt: at,
      reason: { code: 'call.recorded' },
      step: { $case: 'callRecorded', callRecorded: { recordingSid: 'RE1', url: recording.url, durationMs: 42_000, callSid: 'CA1' } },
    });
    expect(callRecorded('conv-CA1', 'CA1', recording, new Date()).eventId).toBe(event.eventId);
    expect(callRecorded('conv-CA1', 'CA1', { ...recording, sid: 'RE2' }, at).eventId).not.toBe(event.eventId);
  });
});

describe('retention', () => {
  it('dates the deletion a retention after the recording; 0 keeps it without end', () => {
    const at = new Date('2026-12-01T10:00:00Z');
    expect(deletion({ VOICE_RECORDING_RETENTION_MS: 90 * 86_400_000 }, at)).toEqual({ deleteAt: new Date('2027-03-01T10:00:00Z') });
    expect(deletion({ VOICE_RECORDING_RETENTION_MS: 0 }, at)).toEqual({});
  });
});
