import { describe, expect, it } from 'vitest';
import { Channel, ContactReceived, ConversationEvent } from '#libs/proto';
import type { IndexBatch } from '../src/search/conversation-index';
import { parseSearch } from '../src/search/filter';
import { SqliteConversationIndex } from '../src/search/sqlite-index';
import { SearchConversationsRequest } from '#libs/proto';

const contact = (n: number) =>
  ContactReceived.fromPartial({
    contactId: `c-${n}`,
    conversationId: `conv-${n % 2}`,
    channel: Channel.CHANNEL_CHAT,
    receivedAt: new Date(1_000 * n),
    text: `note ${n}`,
  });
const batch = (from: number, to: number): IndexBatch => ({
  kind: 'contacts',
  topic: 'cc.contact.inbound.v1',
  partition: 0,
  nextOffset: String(to),
  records: Array.from({ length: to - from }, (_, i) => ({ offset: String(from + i), value: contact(from + i) })),
});
const scope = { windowMs: 3_600_000, now: Date.now(), withContents: true };
const filter = (fields: Partial<SearchConversationsRequest> = {}) => parseSearch(SearchConversationsRequest.fromPartial(fields), 'US');

describe('SQLite conversation index', () => {
  it('applies a batch fetched again after a restart only where it goes past the stored position', async () => {
    const index = new SqliteConversationIndex(':memory:');
    await index.apply(batch(0, 4));
    await index.apply(batch(2, 6));
    expect(await index.positions()).toEqual(new Map([['cc.contact.inbound.v1:0', '6']]));
    const { hits } = await index.search(filter(), scope);
    expect(hits.map((h) => [h.conversationId, h.messageCount])).toEqual([
      ['conv-1', 3],
      ['conv-0', 3],
    ]);
    index.close();
  });

  it('finds only what an agent may read, within the window after it stopped being theirs', async () => {
    const index = new SqliteConversationIndex(':memory:');
    const step = (id: string, at: number, s: ConversationEvent['step']) =>
      ConversationEvent.fromPartial({ eventId: id, conversationId: 'conv-9', occurredAt: new Date(at), step: s } as never);
    await index.apply({
      kind: 'events',
      topic: 'cc.conversation.events.v1',
      partition: 1,
      nextOffset: '2',
      records: [
        { offset: '0', value: step('e-1', 0, { $case: 'assigned', assigned: { agentId: 'ana' } } as never) },
        { offset: '1', value: step('e-2', 10_000, { $case: 'resolved', resolved: { agentId: 'ana' } } as never) },
      ],
    });
    const as = (readerId: string, now: number) => index.search(filter(), { ...scope, readerId, now });
    expect((await as('ana', 20_000)).hits.map((h) => h.conversationId)).toEqual(['conv-9']);
    expect((await as('ana', 10_000 + 3_600_001)).hits).toEqual([]);
    expect((await as('bo', 20_000)).hits).toEqual([]);
    expect((await index.search(filter({ state: 'closed' }), scope)).hits.map((h) => h.state)).toEqual(['resolved']);
    expect((await index.search(filter({ state: 'open' }), scope)).hits).toEqual([]);
    index.close();
  });

  it('finds one conversation by its id', async () => {
    const index = new SqliteConversationIndex(':memory:');
    await index.apply(batch(0, 4));
    expect((await index.search(filter({ conversationId: 'conv-1' }), scope)).hits.map((h) => h.conversationId)).toEqual(['conv-1']);
    expect((await index.search(filter({ conversationId: 'conv-7' }), scope)).hits).toEqual([]);
    index.close();
  });

  it('takes FTS syntax in the words as plain words', async () => {
    const index = new SqliteConversationIndex(':memory:');
    await index.apply(batch(0, 2));
    for (const words of ['note AND', '"note', 'NEAR(note', 'note*', 'text:note', '-note ^note']) {
      expect((await index.search(filter({ words }), scope)).hits.length, words).toBeGreaterThanOrEqual(0);
    }
    expect((await index.search(filter({ words: 'NOTE 1' }), scope)).hits.map((h) => [h.conversationId, h.snippet])).toEqual([['conv-1', '[note] [1]']]);
    index.close();
  });
});
