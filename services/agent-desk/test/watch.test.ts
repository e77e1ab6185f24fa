// The silent view's query and cursor, and the monitor form's list of live calls.
import { describe, expect, it } from 'vitest';
import type { SearchRow } from '#libs/web';
import type { TimelineItem } from '../src/views';
import { liveCallRows, liveChatRows, WatchCursor, watchRequest } from '../src/watch';

const item = (id: string, at: number, kind: TimelineItem['kind'] = 'in'): TimelineItem => ({
  id,
  kind,
  channel: 'chat',
  at,
  subject: '',
  text: `text of ${id}`,
  detail: '',
  agentId: kind === 'out' ? 'ana' : '',
  attachments: [],
  senderWarning: '',
  onBehalf: '',
});

const row = (over: Partial<SearchRow>): SearchRow => ({
  conversationId: 'conv-x',
  customerId: 'cust-1',
  channel: 'voice',
  state: 'assigned',
  queue: 'tier1/billing/voice',
  agentId: 'ana',
  startedAt: 1000,
  lastActivityAt: 2000,
  messages: 1,
  subject: '',
  snippet: '',
  ...over,
});

describe('the silent view', () => {
  it('takes a conversation id and a reason, and marks the reason as a silent view for the audit', () => {
    expect(watchRequest(new URLSearchParams({ conversationId: 'conv-chat-1', reason: ' coaching a new agent ' }))).toEqual({
      conversationId: 'conv-chat-1',
      reason: 'silent view: coaching a new agent',
    });
  });

  it('refuses a watch without a reason, with one too short, or without a conversation, each in words', () => {
    expect(() => watchRequest(new URLSearchParams({ conversationId: 'conv-chat-1' }))).toThrow(/give a reason/);
    expect(() => watchRequest(new URLSearchParams({ conversationId: 'conv-chat-1', reason: 'no' }))).toThrow(/too short/);
    expect(() => watchRequest(new URLSearchParams({ conversationId: 'conv-chat-1', reason: 'two\nlines' }))).toThrow(/one line/);
    expect(() => watchRequest(new URLSearchParams({ reason: 'coaching' }))).toThrow(/conversationId/);
  });

  it('passes on each entry once, oldest first, however often the history is read again', () => {
    const cursor = new WatchCursor();
    expect(cursor.fresh([item('b', 20, 'out'), item('a', 10)]).map((i) => i.id)).toEqual(['a', 'b']);
    expect(cursor.fresh([item('a', 10), item('b', 20, 'out')])).toEqual([]);
    expect(cursor.fresh([item('a', 10), item('b', 20, 'out'), item('c', 30)]).map((i) => i.id)).toEqual(['c']);
  });
});

describe('the live calls list', () => {
  const rows = [
    row({ conversationId: 'conv-CA2', startedAt: 3000 }),
    row({ conversationId: 'conv-chat', channel: 'chat' }),
    row({ conversationId: 'conv-CA1', startedAt: 1000, agentId: '' }),
    row({ conversationId: 'conv-CA3', state: 'resolved' }),
    row({ conversationId: 'conv-CA4', startedAt: 500 }),
    row({ conversationId: 'conv-CA5', startedAt: 4000 }),
  ];

  it("keeps open calls only, the longest-running first, with queue, agent, since and sms-voice's state", () => {
    const calls = [
      { conversationId: 'conv-CA1', state: 'ringing' as const, agentId: '', since: 900 },
      { conversationId: 'conv-CA2', state: 'consulting' as const, agentId: 'ana', since: 2900 },
      // Ended at sms-voice while customer-record still has it open: not a live call any more.
      { conversationId: 'conv-CA4', state: 'ended' as const, agentId: 'ana', since: 500 },
    ];
    expect(liveCallRows(rows, calls)).toEqual([
      { conversationId: 'conv-CA1', queue: 'tier1/billing/voice', agentId: '', since: 900, state: 'ringing' },
      { conversationId: 'conv-CA2', queue: 'tier1/billing/voice', agentId: 'ana', since: 2900, state: 'consulting' },
      { conversationId: 'conv-CA5', queue: 'tier1/billing/voice', agentId: 'ana', since: 4000, state: 'unknown' },
    ]);
  });

  it('says the state is unknown when sms-voice did not answer, and takes the agent from sms-voice when the record has none yet', () => {
    expect(liveCallRows(rows, undefined).map((r) => r.state)).toEqual(['unknown', 'unknown', 'unknown', 'unknown']);
    const bridged = liveCallRows(
      [row({ conversationId: 'conv-CA1', agentId: '' })],
      [{ conversationId: 'conv-CA1', state: 'bridged', agentId: 'ana', since: 7 }],
    );
    expect(bridged).toEqual([{ conversationId: 'conv-CA1', queue: 'tier1/billing/voice', agentId: 'ana', since: 7, state: 'bridged' }]);
  });
});

describe('the live chats list', () => {
  it('keeps open chats only, waiting or assigned, the longest-running first', () => {
    const rows = [
      row({ conversationId: 'conv-chat-2', channel: 'chat', startedAt: 2000 }),
      row({ conversationId: 'conv-chat-1', channel: 'chat', startedAt: 1000, agentId: '' }),
      row({ conversationId: 'conv-chat-3', channel: 'chat', state: 'resolved' }),
      row({ conversationId: 'conv-CA1' }),
    ];
    expect(liveChatRows(rows).map((r) => [r.conversationId, r.state])).toEqual([
      ['conv-chat-1', 'waiting'],
      ['conv-chat-2', 'assigned'],
    ]);
  });
});
