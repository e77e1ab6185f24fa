import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { Channel, ContactReceived, ConversationEvent } from '#libs/proto';
import type { IndexBatch } from '../src/search/conversation-index';
import { encodeCursor, parseSearch } from '../src/search/filter';
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
/** Applies contacts, or conversation events, as one batch of partition 0 from offset 0. */
const applyAll = (index: SqliteConversationIndex, records: (ContactReceived | ConversationEvent)[], kind: 'contacts' | 'events') =>
  index.apply({
    kind,
    topic: kind === 'contacts' ? 'cc.contact.inbound.v1' : 'cc.conversation.events.v1',
    partition: 0,
    nextOffset: String(records.length),
    records: records.map((value, i) => ({ offset: String(i), value })),
  } as IndexBatch);
const assignedTo = (agentId: string, conversationIds: string[]) =>
  conversationIds.map((conversationId, i) =>
    ConversationEvent.fromPartial({
      eventId: `assigned-${conversationId}-${i}`,
      conversationId,
      occurredAt: new Date(1),
      step: { $case: 'assigned', assigned: { agentId } },
    } as never),
  );
/** Every page of a search, the conversation ids in order. */
async function allPages(index: SqliteConversationIndex, fields: Partial<SearchConversationsRequest>): Promise<string[][]> {
  const pages: string[][] = [];
  let pageToken = '';
  for (;;) {
    const page = await index.search(filter({ ...fields, pageToken }), scope);
    pages.push(page.hits.map((h) => h.conversationId));
    if (!page.next) return pages;
    pageToken = encodeCursor(page.next);
  }
}

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

  it('lists a search by words newest matching message first, a page at a time, each conversation once', async () => {
    const index = new SqliteConversationIndex(':memory:');
    // 30 conversations; conversation k says "refund" at k seconds (some twice), and conversation 0
    // last of all says something else, so its activity is newest but its match is the oldest.
    const said = (k: number, n: number, text: string, at: number) =>
      ContactReceived.fromPartial({ contactId: `w-${k}-${n}`, conversationId: `wconv-${k}`, channel: Channel.CHANNEL_EMAIL, receivedAt: new Date(at), text });
    const records = [];
    for (let k = 0; k < 30; k++) records.push(said(k, 0, `refund please ${k}`, 1_000 * (k + 1)));
    for (const k of [3, 7, 11]) records.push(said(k, 1, 'still waiting for my refund', 1_000 * (k + 1) + 500));
    records.push(said(0, 2, 'thank you', 100_000));
    // Two messages in the same millisecond each keep their place.
    records.push(said(40, 0, 'refund twice', 50_000), said(41, 0, 'refund twice', 50_000));
    await applyAll(index, records, 'contacts');

    const pages = await allPages(index, { words: 'refund', pageSize: 7 });
    const order = pages.flat();
    expect(order.slice(0, 2).sort()).toEqual(['wconv-40', 'wconv-41']);
    expect(order.slice(2)).toEqual(Array.from({ length: 30 }, (_, i) => `wconv-${29 - i}`));
    expect(pages.map((p) => p.length)).toEqual([7, 7, 7, 7, 4]);
    // Each snippet is of the hit's own newest matching message, never another conversation's.
    const top = await index.search(filter({ words: 'refund please', pageSize: 3 }), scope);
    expect(top.hits.map((h) => h.snippet)).toEqual(['[refund] [please] 29', '[refund] [please] 28', '[refund] [please] 27']);
    const first = await index.search(filter({ words: 'refund waiting' }), scope);
    expect(first.hits.map((h) => [h.conversationId, h.snippet])).toEqual([
      ['wconv-11', 'still [waiting] for my [refund]'],
      ['wconv-7', 'still [waiting] for my [refund]'],
      ['wconv-3', 'still [waiting] for my [refund]'],
    ]);
    // Within one agent's conversations (each looked into) the order and the pages are the same.
    await applyAll(
      index,
      assignedTo(
        'ana',
        Array.from({ length: 42 }, (_, k) => `wconv-${k}`),
      ),
      'events',
    );
    expect((await allPages(index, { words: 'refund', agentId: 'ana', pageSize: 7 })).flat()).toEqual(order);
    // The other filters still hold, and a search without words stays newest activity first.
    expect((await index.search(filter({ words: 'refund', conversationId: 'wconv-0' }), scope)).hits.map((h) => h.conversationId)).toEqual(['wconv-0']);
    expect((await index.search(filter({ pageSize: 1 }), scope)).hits.map((h) => h.conversationId)).toEqual(['wconv-0']);
    index.close();
  });

  it('drops a file of an earlier schema and starts it again (a new id, so it is rebuilt from the topics)', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'search-schema-'));
    const file = join(dir, 'conversations.sqlite');
    try {
      const first = new SqliteConversationIndex(file);
      await first.apply(batch(0, 2));
      const id = first.indexId();
      first.close();
      const kept = new SqliteConversationIndex(file);
      expect(kept.indexId()).toBe(id);
      kept.close();
      const old = new Database(file);
      old.prepare("UPDATE meta SET value = '1' WHERE key = 'schema'").run();
      old.close();
      const rebuilt = new SqliteConversationIndex(file);
      expect(rebuilt.indexId()).not.toBe(id);
      expect(await rebuilt.positions()).toEqual(new Map());
      rebuilt.close();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("finds words whatever their case and accents, within one agent's conversations as over all of them", async () => {
    const index = new SqliteConversationIndex(':memory:');
    const said = (id: string, text: string, at: number) =>
      ContactReceived.fromPartial({ contactId: `x-${id}`, conversationId: id, channel: Channel.CHANNEL_EMAIL, receivedAt: new Date(at), text });
    const records = [said('accents', 'Rückerstattung für das CAFÉ bitte', 1_000), said('plain', 'cafe receipt', 2_000), said('other', 'caf e', 3_000)];
    await applyAll(index, records, 'contacts');
    await applyAll(
      index,
      assignedTo(
        'ana',
        records.map((r) => r.conversationId),
      ),
      'events',
    );
    for (const words of ['cafe', 'Café', 'CAFÉ rückerstattung']) {
      const expected = words.includes(' ') ? ['accents'] : ['plain', 'accents'];
      expect(
        (await index.search(filter({ words }), scope)).hits.map((h) => h.conversationId),
        words,
      ).toEqual(expected);
      expect(
        (await index.search(filter({ words, agentId: 'ana' }), scope)).hits.map((h) => h.conversationId),
        `${words}, ana's`,
      ).toEqual(expected);
    }
    index.close();
  });

  it('names the customers whose conversations’ senders gave a name, newest first, never one given on a customer’s behalf, until they are forgotten', async () => {
    const index = new SqliteConversationIndex(':memory:');
    const from = (n: number, senderDisplayName: string, over: Partial<ContactReceived> = {}) =>
      ContactReceived.fromPartial({
        contactId: `named-${n}`,
        conversationId: `named-conv-${n}`,
        channel: Channel.CHANNEL_EMAIL,
        receivedAt: new Date(1_000 * n),
        senderDisplayName,
        ...over,
      });
    await applyAll(
      index,
      [
        from(1, 'Ann-Marie Müller'),
        from(2, 'Joanna Mulligan'),
        from(3, 'Travel Desk Ltd', { onBehalfOf: { kind: 2, value: 'ann@example.com', namespace: '' } }),
        // A later name for the same conversation is not its first.
        from(4, 'Ann Other', { conversationId: 'named-conv-1' }),
      ],
      'contacts',
    );
    const customers = ['cust-ann', 'cust-jo', 'cust-agency'].map((customerId, i) =>
      ConversationEvent.fromPartial({
        eventId: `named-ev-${i}`,
        conversationId: `named-conv-${i + 1}`,
        customerId,
        occurredAt: new Date(5_000),
        step: { $case: 'queued', queued: { queue: 'q' } },
      } as never),
    );
    await index.apply({
      kind: 'events',
      topic: 'cc.conversation.events.v1',
      partition: 0,
      nextOffset: '3',
      records: customers.map((value, i) => ({ offset: String(i), value })),
    });
    expect(await index.customersNamed(['MULL'], 10)).toEqual(['cust-jo', 'cust-ann']);
    expect(await index.customersNamed(['ann', 'muller'], 10)).toEqual(['cust-ann']);
    expect(await index.customersNamed(['other'], 10)).toEqual([]);
    expect(await index.customersNamed(['travel'], 10)).toEqual([]);
    expect(await index.customersNamed(['mull'], 1)).toEqual(['cust-jo']);
    index.forget([], ['cust-ann']);
    expect(await index.customersNamed(['mull'], 10)).toEqual(['cust-jo']);
    index.close();
  });
});
