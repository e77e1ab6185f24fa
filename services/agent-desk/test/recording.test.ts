// A call recording in the desk: the entry read from customer-record's text, the player's request,
// the range passed on to Twilio, the audio types and the headers of the media passed back.
import { describe, expect, it } from 'vitest';
import { HistoryEntry, HistoryEntryKind } from '#libs/proto';
import { audioType, passedRange, recordingHeaders, recordingOf, recordingRequest } from '../src/recording-views';
import { historyItem } from '../src/views';

const SID = `RE${'0a'.repeat(16)}`;
const CONVERSATION = `conv-CA${'1b'.repeat(16)}`;

describe('a recorded call in the conversation view', () => {
  it("finds the recording in customer-record's text, and nothing when the text was left out", () => {
    const text = `Call recording (37 s, ${SID}): https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/${SID}`;
    expect(recordingOf(text)).toEqual({ sid: SID, seconds: 37 });
    expect(recordingOf('')).toBeUndefined();
    expect(recordingOf(`Voicemail (3 s): https://x/${SID}`)).toBeUndefined();
    expect(recordingOf(`Customer wrote: Call recording (37 s, ${SID}): see`)).toBeUndefined();
    const entry = (t: string) =>
      historyItem(HistoryEntry.fromPartial({ entryId: 'event:1', kind: HistoryEntryKind.HISTORY_ENTRY_KIND_OTHER, text: t, detail: 'call recorded (37 s)' }));
    expect(entry(text).recording).toEqual({ sid: SID, seconds: 37 });
    // For someone who may not hear it customer-record sends the detail only: no player.
    expect(entry('').recording).toBeUndefined();
  });

  it("checks the player's request field by field", () => {
    expect(recordingRequest(new URLSearchParams({ conversationId: CONVERSATION, recordingSid: SID }))).toEqual({
      conversationId: CONVERSATION,
      recordingSid: SID,
    });
    expect(() => recordingRequest(new URLSearchParams({ conversationId: 'conv-chat-1', recordingSid: SID }))).toThrow(/conversation of a call/);
    expect(() => recordingRequest(new URLSearchParams({ conversationId: CONVERSATION, recordingSid: '../Calls' }))).toThrow(/RE followed by 32 hex/);
    expect(() => recordingRequest(new URLSearchParams({ conversationId: CONVERSATION }))).toThrow(/recordingSid/);
  });

  it('passes one byte range on to Twilio and nothing else', () => {
    expect(passedRange('bytes=0-')).toBe('bytes=0-');
    expect(passedRange('bytes=100-199')).toBe('bytes=100-199');
    expect(passedRange('bytes=-500')).toBe('bytes=-500');
    expect(passedRange(undefined)).toBeUndefined();
    expect(passedRange('bytes=-')).toBeUndefined();
    expect(passedRange('bytes=0-1, 5-6')).toBeUndefined();
    expect(passedRange('bytes=0-1\r\nx-evil: 1')).toBeUndefined();
  });

  it('passes on only audio, with headers that play it inline, never cached', () => {
    expect(audioType('audio/mpeg')).toBe('audio/mpeg');
    expect(audioType('audio/x-wav; charset=binary')).toBe('audio/x-wav');
    expect(audioType('text/html')).toBeUndefined();
    expect(audioType(null)).toBeUndefined();
    expect(recordingHeaders(SID, 'audio/mpeg', { length: '3952', range: 'bytes 0-3951/3952' })).toEqual({
      'content-type': 'audio/mpeg',
      'content-length': '3952',
      'content-range': 'bytes 0-3951/3952',
      'accept-ranges': 'bytes',
      'content-disposition': `inline; filename="${SID}.mp3"`,
      'cache-control': 'private, no-store',
      'x-content-type-options': 'nosniff',
      'content-security-policy': 'sandbox',
      'referrer-policy': 'no-referrer',
    });
    const odd = recordingHeaders(SID, 'audio/x-wav', { length: 'lots', range: 'bytes 0-1/2\r\nx: y' });
    expect(odd['content-length']).toBeUndefined();
    expect(odd['content-range']).toBeUndefined();
    expect(odd['content-disposition']).toBe(`inline; filename="${SID}.wav"`);
  });
});
