import { describe, expect, it } from 'vitest';
import { LiveFeed, type LiveEvent } from '../src/live-feed';
import type { DescribedRecord } from '../src/records';

const record = (conversationId: string, topic = 'cc.conversation.events.v1', offset = '0'): DescribedRecord => ({
  topic,
  partition: 0,
  offset,
  key: conversationId,
});

describe('the live feed', () => {
  it('starts a stream from the recent events its filter matches, oldest first, and keeps only the newest', () => {
    const feed = new LiveFeed({ recent: 3, conversations: 10, perConversation: 10 });
    for (let i = 0; i < 5; i++) feed.add(record(`c-${i % 2}`, 'cc.conversation.events.v1', String(i)), 1000 + i);
    expect(feed.backlog({ topics: [] }).map((e) => e.record.offset)).toEqual(['2', '3', '4']);
    expect(feed.backlog({ topics: ['cc.sla.v1'] })).toEqual([]);
  });

  it('remembers a conversation beyond the recent events, forgetting the least recently active first', () => {
    const feed = new LiveFeed({ recent: 1, conversations: 2, perConversation: 2 });
    for (const [id, offset] of [
      ['a', '1'],
      ['a', '2'],
      ['a', '3'],
      ['b', '4'],
      ['a', '5'],
      ['c', '6'],
    ] as const)
      feed.add(record(id, undefined, offset), 0);
    expect(feed.backlog({ topics: [], conversationId: 'a' }).map((e) => e.record.offset)).toEqual(['3', '5']);
    expect(feed.backlog({ topics: [], conversationId: 'b' })).toEqual([]);
    expect(feed.backlog({ topics: [], conversationId: 'c' }).map((e) => e.record.offset)).toEqual(['6']);
  });

  it('sends new events to open streams whose filter matches, until they unsubscribe', () => {
    const feed = new LiveFeed();
    const seen: LiveEvent[] = [];
    const stop = feed.subscribe({ topics: [], conversationId: 'a' }, (e) => seen.push(e));
    feed.add(record('a'), 1);
    feed.add(record('b'), 2);
    stop();
    feed.add(record('a'), 3);
    expect(seen.map((e) => e.receivedAt)).toEqual([1]);
  });
});
