// Every step of a conversation as the customer's history records it, and the page tokens of
// the newest-first listings: pure, no servers.
import { describe, expect, it } from 'vitest';
import { Channel, ConversationEvent, HistoryEntryKind as K } from '#libs/proto';
import { InvalidArgumentError } from '#libs/service';
import { toHistoryEntry } from '../src/api/wire';
import { seesContents } from '../src/authz';
import { entryFromConversationEvent } from '../src/history';
import { decodePageToken, encodePageToken } from '../src/store/page-token';

const now = new Date('2026-11-22T12:00:00Z');

function event(step: unknown, why = 'longest idle'): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: 'e1',
    conversationId: 'v1',
    channel: Channel.CHANNEL_CHAT,
    occurredAt: now,
    ...(why ? { reason: { code: 'x', text: why } } : {}),
    step,
  } as never);
}

const base = { _id: 'event:e1', customerId: 'cust', conversationId: 'v1', channel: Channel.CHANNEL_CHAT, occurredAt: now, subject: '', text: '' };
const quiet = { countsAsMessage: false };

describe('history entries from conversation steps', () => {
  const cases: [string, unknown, object, object][] = [
    [
      'queued',
      { $case: 'queued', queued: { queue: 'billing' } },
      { kind: K.HISTORY_ENTRY_KIND_QUEUED, agentId: '', detail: 'queue billing; longest idle' },
      quiet,
    ],
    [
      'assigned',
      { $case: 'assigned', assigned: { agentId: 'a1', tier: 1, waitedMs: 3 } },
      { kind: K.HISTORY_ENTRY_KIND_ASSIGNED, agentId: 'a1', detail: 'longest idle' },
      { agentId: 'a1', countsAsMessage: false },
    ],
    [
      'escalated by rule',
      { $case: 'escalated', escalated: { fromAgentId: 'a1', queue: 'tier2', automatic: true } },
      { kind: K.HISTORY_ENTRY_KIND_ESCALATED, agentId: 'a1', detail: 'escalated by rule; to tier2; longest idle' },
      quiet,
    ],
    [
      'escalated by agent',
      { $case: 'escalated', escalated: { fromAgentId: 'a1', queue: 'tier2', automatic: false } },
      { kind: K.HISTORY_ENTRY_KIND_ESCALATED, agentId: 'a1', detail: 'escalated by agent; to tier2; longest idle' },
      quiet,
    ],
    [
      'transferred',
      { $case: 'transferred', transferred: { fromAgentId: 'a1', toAgentId: 'a2' } },
      { kind: K.HISTORY_ENTRY_KIND_TRANSFERRED, agentId: 'a2', detail: 'from a1; longest idle' },
      { agentId: 'a2', countsAsMessage: false },
    ],
    [
      'transferred to a queue',
      { $case: 'transferred', transferred: { fromAgentId: 'a1', toAgentId: '' } },
      { kind: K.HISTORY_ENTRY_KIND_TRANSFERRED, agentId: '', detail: 'from a1; longest idle' },
      quiet,
    ],
    [
      'noteAdded',
      { $case: 'noteAdded', noteAdded: { author: 'api:shop', text: 'Customer phoned the shop too.' } },
      { text: 'Customer phoned the shop too.', kind: K.HISTORY_ENTRY_KIND_OTHER, agentId: 'api:shop', detail: 'internal note' },
      quiet,
    ],
    [
      'handedBack',
      { $case: 'handedBack', handedBack: { expertAgentId: 'x1' } },
      { kind: K.HISTORY_ENTRY_KIND_OTHER, agentId: 'x1', detail: 'handed back by the expert' },
      quiet,
    ],
    [
      'requeued',
      { $case: 'requeued', requeued: { previousAgentId: 'a1' } },
      { kind: K.HISTORY_ENTRY_KIND_OTHER, agentId: 'a1', detail: 'put back in the queue; longest idle' },
      quiet,
    ],
    [
      'replied',
      { $case: 'replied', replied: { agentId: 'a1', text: 'Fixed' } },
      { text: 'Fixed', kind: K.HISTORY_ENTRY_KIND_MESSAGE_OUT, agentId: 'a1', detail: '' },
      { agentId: 'a1', countsAsMessage: true },
    ],
    [
      'resolved',
      { $case: 'resolved', resolved: { agentId: 'a1', disposition: 'fixed' } },
      { kind: K.HISTORY_ENTRY_KIND_RESOLVED, agentId: 'a1', detail: 'fixed; longest idle' },
      { status: 'resolved', countsAsMessage: false },
    ],
    [
      'abandoned',
      { $case: 'abandoned', abandoned: { waitedMs: 61_400 } },
      { kind: K.HISTORY_ENTRY_KIND_ABANDONED, agentId: '', detail: 'after waiting 61 s' },
      { status: 'abandoned', countsAsMessage: false },
    ],
    [
      'surveyAnswered',
      { $case: 'surveyAnswered', surveyAnswered: { question: 'How did we do?', score: 4, comment: 'quick' } },
      { text: 'quick', kind: K.HISTORY_ENTRY_KIND_SURVEY_ANSWERED, agentId: '', detail: 'score 4/5: How did we do?' },
      quiet,
    ],
    [
      'callEnded',
      { $case: 'callEnded', callEnded: { status: 'completed', durationMs: 125_600 } },
      { kind: K.HISTORY_ENTRY_KIND_OTHER, agentId: '', detail: 'call ended (completed, 126 s)' },
      quiet,
    ],
    [
      'callRecorded',
      { $case: 'callRecorded', callRecorded: { recordingSid: 'RE1', url: 'https://api.twilio.com/rec/RE1', durationMs: 42_400, callSid: 'CA1' } },
      { text: 'Call recording (42 s, RE1): https://api.twilio.com/rec/RE1', kind: K.HISTORY_ENTRY_KIND_OTHER, agentId: '', detail: 'call recorded (42 s)' },
      quiet,
    ],
  ];

  it.each(cases)('%s', (_name, step, entry, change) => {
    expect(entryFromConversationEvent(event(step), 'cust')).toStrictEqual({ entry: { ...base, ...entry }, change });
  });

  it('lists a booked callback with the time it was asked and the time promised', () => {
    const why = 'callback requested at 09:00 UTC, promised by 09:06 UTC; it keeps place 1 in tier1/general/voice';
    const booked = { $case: 'callbackProgress', callbackProgress: { outcome: 1, attempt: 0, promisedWaitMs: 360_000 } };
    expect(entryFromConversationEvent(event(booked, why), 'cust')).toMatchObject({ entry: { kind: K.HISTORY_ENTRY_KIND_OTHER, detail: why }, change: quiet });
  });

  it('leaves out a missing reason instead of an empty part', () => {
    const e = (step: unknown) => entryFromConversationEvent(event(step, ''), 'cust')?.entry.detail;
    expect(e({ $case: 'queued', queued: { queue: 'billing' } })).toBe('queue billing');
    expect(e({ $case: 'assigned', assigned: { agentId: 'a1' } })).toBe('');
    expect(e({ $case: 'escalated', escalated: { fromAgentId: 'a1', queue: 'tier2', automatic: true } })).toBe('escalated by rule; to tier2');
    expect(e({ $case: 'resolved', resolved: { agentId: 'a1', disposition: 'fixed' } })).toBe('fixed');
    expect(e({ $case: 'requeued', requeued: { previousAgentId: 'a1' } })).toBe('put back in the queue');
  });

  it('keeps offers, declined offers, delivery receipts and step-less events out of the history', () => {
    expect(entryFromConversationEvent(event({ $case: 'offered', offered: { agentId: 'a1' } }), 'cust')).toBeNull();
    expect(entryFromConversationEvent(event({ $case: 'offerDeclined', offerDeclined: { agentId: 'a1' } }), 'cust')).toBeNull();
    expect(entryFromConversationEvent(event({ $case: 'deliveryReported', deliveryReported: {} }), 'cust')).toBeNull();
    expect(entryFromConversationEvent(ConversationEvent.fromPartial({ eventId: 'e2', conversationId: 'v1' }), '')).toBeNull();
  });

  it("lists a call's recording, its link a content: left out for those who do not see contents", () => {
    const recorded = { $case: 'callRecorded', callRecorded: { recordingSid: 'RE9', url: 'https://api.twilio.com/rec/RE9', durationMs: 5000, callSid: 'CA9' } };
    const { entry } = entryFromConversationEvent(event(recorded), 'cust')!;
    expect(toHistoryEntry(entry, true).text).toContain('https://api.twilio.com/rec/RE9');
    expect(toHistoryEntry(entry, false)).toMatchObject({ text: '', detail: 'call recorded (5 s)' });
    expect(seesContents('ops')).toBe(false);
    expect(seesContents('agent')).toBe(true);
  });

  it('dates an event without a time at the epoch', () => {
    const e = ConversationEvent.fromPartial({ eventId: 'e3', conversationId: 'v1', step: { $case: 'queued', queued: { queue: 'q' } } } as never);
    expect(entryFromConversationEvent(e, '')?.entry.occurredAt).toEqual(new Date(0));
  });
});

describe('page tokens', () => {
  it('carry the last row shown and refuse tokens this service did not issue', () => {
    expect(decodePageToken(encodePageToken(now, 'row-7'))).toEqual({ at: now, id: 'row-7' });
    for (const bad of ['not-base64-json', Buffer.from('{"a":1}').toString('base64url'), Buffer.from('["x","y"]').toString('base64url')])
      expect(() => decodePageToken(bad)).toThrow(InvalidArgumentError);
  });
});
