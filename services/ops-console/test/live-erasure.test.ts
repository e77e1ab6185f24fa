// The live views forget erased customers, without a broker: the feed's backlogs (recent and per
// conversation) and the charts' waits lose every event of an erased conversation or customer;
// the rest stays.
import { describe, expect, it } from 'vitest';
import { ErasureSet, subjectKey } from '#libs/erasure';
import { ChartAggregator } from '../src/charts';
import { forgetInLiveViews, ofErased } from '../src/live-erasure';
import { LiveFeed } from '../src/live-feed';
import type { DescribedRecord } from '../src/records';

const SECRET = 'a test erasure key of at least thirty-two characters';
let offset = 0;
const step = (conversationId: string, customerId: string, event: Record<string, unknown>): DescribedRecord => ({
  topic: 'cc.conversation.events.v1',
  partition: 0,
  offset: String(offset++),
  key: conversationId,
  event: { conversationId, customerId, occurredAt: new Date(1_000).toISOString(), ...event },
});

describe('the live views after an erasure', () => {
  it('drop every event of an erased conversation or customer, and keep the others', () => {
    const feed = new LiveFeed();
    const charts = new ChartAggregator();
    const add = (r: DescribedRecord) => charts.addRecord(r, feed.add(r, 2_000).receivedAt);
    for (const [conversation, customer] of [
      ['erased-conv', ''],
      ['of-erased-customer', 'erased-customer'],
      ['kept', 'kept-customer'],
    ] as const) {
      add(step(conversation, customer, { queued: { estimatedWaitMs: 30_000 } }));
      add(step(conversation, customer, { assigned: { waitedMs: 20_000 } }));
    }
    expect(charts.snapshot(3_000).waits.map((w) => w.conversationId)).toEqual(['erased-conv', 'of-erased-customer', 'kept']);
    const at = new Date(5_000);
    const known = ErasureSet.of(SECRET, [
      { subjectKey: subjectKey(SECRET, 'conversation', 'erased-conv'), erasedAt: at },
      { subjectKey: subjectKey(SECRET, 'customer', 'erased-customer'), erasedAt: at },
    ]);

    expect(forgetInLiveViews(known, feed, charts)).toBe(4);
    expect(feed.backlog({ topics: [] }).map((e) => (e.record.event as { conversationId: string }).conversationId)).toEqual(['kept', 'kept']);
    for (const conversationId of ['erased-conv', 'of-erased-customer']) expect(feed.backlog({ topics: [], conversationId })).toEqual([]);
    expect(feed.backlog({ topics: [], conversationId: 'kept' })).toHaveLength(2);
    expect(charts.snapshot(3_000).waits.map((w) => w.conversationId)).toEqual(['kept']);
    // Nothing more to forget the second time.
    expect(forgetInLiveViews(known, feed, charts)).toBe(0);
    // A late record of either is passed by; others, and every record before any erasure, are not.
    expect(ofErased(known, step('erased-conv', '', { resolved: {} }))).toBe(true);
    expect(ofErased(known, step('new-conv', 'erased-customer', { resolved: {} }))).toBe(true);
    expect(ofErased(known, step('kept', 'kept-customer', { resolved: {} }))).toBe(false);
    expect(ofErased(ErasureSet.of(SECRET, []), step('erased-conv', '', { resolved: {} }))).toBe(false);
  });
});
