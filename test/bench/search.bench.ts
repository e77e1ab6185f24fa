// Benchmark: conversation search. Loads synthetic conversations into the SQLite search index
// through the same row-writing code the Kafka consumer uses (big transactions, not through
// Kafka), then times typical searches; in the same run, the same searches as store queries on
// FerretDB over a smaller collection of the same rows, to show why the index is its own.
//   npm run bench:search   (BENCH_CONVERSATIONS, default 1,000,000; BENCH_STORE_DOCS, default
//                           100,000; BENCH_RUNS, default 200; BENCH_STORE_RUNS, default 5)
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { cpus, loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { MongoClient, type Document } from 'mongodb';
import { Channel, ContactReceived, ConversationEvent, IdentityKind, SearchConversationsRequest } from '#libs/proto';
import { MONGODB_URI, uniqueId } from '#libs/testing';
import type { IndexBatch, SearchScope } from '../../services/customer-record/src/search/conversation-index';
import { parseSearch } from '../../services/customer-record/src/search/filter';
import { SNIPPET_SQL } from '../../services/customer-record/src/search/query';
import { SqliteConversationIndex } from '../../services/customer-record/src/search/sqlite-index';
import { percentile } from './stats';

const N = Number(process.env.BENCH_CONVERSATIONS ?? 1_000_000);
const STORE_DOCS = Number(process.env.BENCH_STORE_DOCS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 200);
const STORE_RUNS = Number(process.env.BENCH_STORE_RUNS ?? 5);
const CUSTOMERS = Math.max(1, Math.floor(N / 5));
const AGENTS = 500;
const QUEUES = 20;
const DAY = 86_400_000;
const START = Date.UTC(2026, 0, 1);
const SPAN = 180 * DAY;
const WORDS = `parcel refund invoice delivery address card payment charged twice order cancel return size colour broken late
  password login account email phone number subscription upgrade downgrade discount voucher warranty repair engineer visit
  appointment reschedule contract meter reading tariff bill overdue direct debit bank transfer receipt missing damaged`
  .split(/\s+/)
  .filter(Boolean);

let seed = 42;
const rand = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: readonly T[]) => xs[Math.floor(rand() * xs.length)]!;
const sentence = (n: number) => Array.from({ length: n }, () => pick(WORDS)).join(' ');

interface Synthetic {
  id: string;
  customer: number;
  agent: string;
  queue: string;
  at: number;
  text: string;
  resolved: boolean;
}

function conversation(i: number): Synthetic {
  return {
    id: `conv-${i}`,
    customer: Math.floor(rand() * CUSTOMERS),
    agent: `agent-${Math.floor(rand() * AGENTS)}`,
    queue: `tier1/q${Math.floor(rand() * QUEUES)}/email`,
    at: START + Math.floor(rand() * SPAN),
    text: `${sentence(8)} order ${i}`,
    resolved: rand() < 0.7,
  };
}

/** The records routing and the email channel would publish for one conversation. */
function records(c: Synthetic) {
  const ev = (n: number, step: unknown) =>
    ConversationEvent.fromPartial({
      eventId: `${c.id}-e${n}`,
      conversationId: c.id,
      occurredAt: new Date(c.at + n * 60_000),
      channel: Channel.CHANNEL_EMAIL,
      customerId: `cust-${c.customer}`,
      step,
    } as never);
  const contact = ContactReceived.fromPartial({
    contactId: `${c.id}-c`,
    conversationId: c.id,
    channel: Channel.CHANNEL_EMAIL,
    receivedAt: new Date(c.at),
    sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `customer-${c.customer}@example.com`, namespace: '' },
    subject: sentence(3),
    text: c.text,
  });
  const events = [ev(1, { $case: 'queued', queued: { queue: c.queue } }), ev(2, { $case: 'assigned', assigned: { agentId: c.agent } })];
  if (c.resolved) events.push(ev(3, { $case: 'resolved', resolved: { agentId: c.agent } }));
  return { contact, events };
}

async function load(index: SqliteConversationIndex): Promise<number> {
  const started = performance.now();
  const PER_TX = 20_000;
  let offset = 0;
  for (let from = 0; from < N; from += PER_TX) {
    const contacts: IndexBatch & { kind: 'contacts' } = { kind: 'contacts', topic: 'cc.contact.inbound.v1', partition: 0, nextOffset: '0', records: [] };
    const events: IndexBatch & { kind: 'events' } = { kind: 'events', topic: 'cc.conversation.events.v1', partition: 0, nextOffset: '0', records: [] };
    for (let i = from; i < Math.min(N, from + PER_TX); i++) {
      const r = records(conversation(i));
      contacts.records.push({ offset: String(offset++), value: r.contact });
      for (const e of r.events) events.records.push({ offset: String(offset++), value: e });
    }
    contacts.nextOffset = events.nextOffset = String(offset);
    index.applyMany([contacts, events]);
    if ((from / PER_TX) % 10 === 9) console.log(`  ${from + PER_TX} conversations, ${((performance.now() - started) / 1000).toFixed(0)} s`);
  }
  return (performance.now() - started) / 1000;
}

type Search = { name: string; request: () => Partial<SearchConversationsRequest>; scope?: Partial<SearchScope>; secondPage?: boolean };

const searches: Search[] = [
  { name: 'by customer', request: () => ({ customerId: `cust-${Math.floor(rand() * CUSTOMERS)}` }) },
  { name: 'by agent + state open', request: () => ({ agentId: `agent-${Math.floor(rand() * AGENTS)}`, state: 'open' }) },
  { name: 'by two words', request: () => ({ words: `${pick(WORDS)} ${pick(WORDS)}` }) },
  { name: 'by one common word', request: () => ({ words: pick(WORDS) }) },
  { name: 'by two words, second page', request: () => ({ words: `${pick(WORDS)} ${pick(WORDS)}` }), secondPage: true },
  { name: 'by two words + a queue', request: () => ({ words: `${pick(WORDS)} ${pick(WORDS)}`, queue: `tier1/q${Math.floor(rand() * QUEUES)}/email` }) },
  { name: 'as an agent: two words', request: () => ({ words: `${pick(WORDS)} ${pick(WORDS)}` }), scope: { readerId: 'any' } },
  { name: 'by a rare word (order number)', request: () => ({ words: `order ${Math.floor(rand() * N)}` }) },
  {
    name: 'by queue + 1-day range',
    request: () => {
      const from = START + Math.floor(rand() * (SPAN - DAY));
      return { queue: `tier1/q${Math.floor(rand() * QUEUES)}/email`, activeFrom: new Date(from).toISOString(), activeTo: new Date(from + DAY).toISOString() };
    },
  },
  { name: 'as an agent: all theirs', request: () => ({}), scope: { readerId: `agent-${Math.floor(rand() * AGENTS)}` } },
];

async function timeIndex(index: SqliteConversationIndex): Promise<void> {
  console.log(`\nsearch index, ${N.toLocaleString('en')} conversations, ${RUNS} searches each, 50 a page, one caller:`);
  console.log('| search | p50 ms | p99 ms | max ms | searches/s | hits (mean) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  for (const s of searches) {
    const times: number[] = [];
    let hits = 0;
    const began = performance.now();
    for (let i = 0; i < RUNS; i++) {
      const filter = parseSearch(SearchConversationsRequest.fromPartial(s.request()), 'US');
      const t = performance.now();
      const scope: SearchScope = {
        windowMs: 8 * 3_600_000,
        now: START + SPAN,
        withContents: true,
        ...s.scope,
        readerId: s.scope ? `agent-${Math.floor(rand() * AGENTS)}` : undefined,
      };
      let page = await index.search(filter, scope);
      if (s.secondPage && page.next) page = await index.search({ ...filter, after: page.next }, scope);
      hits += page.hits.length;
      times.push(performance.now() - t);
    }
    const rate = RUNS / ((performance.now() - began) / 1000);
    console.log(
      `| ${s.name} | ${percentile(times, 50)} | ${percentile(times, 99)} | ${percentile(times, 100)} | ${rate.toFixed(0)} | ${(hits / RUNS).toFixed(1)} |`,
    );
  }
}

/**
 * The plan searches by words had until 2026-12-04, on the same file in the same run: every
 * matching message gathered, their conversations sorted by last activity, then each hit's newest
 * matching message found for its snippet.
 */
function timeGatherAndSort(file: string): void {
  const db = new Database(file, { readonly: true });
  const gather = db.prepare<[string], { id: number }>(
    'SELECT c.id FROM conversations c WHERE c.id IN (SELECT t.conv FROM messages JOIN message_texts t ON t.id = messages.rowid WHERE messages MATCH ?) ORDER BY c.last_activity_at DESC, c.id DESC LIMIT 51',
  );
  const messageIds = db.prepare<[number], number>('SELECT id FROM message_texts WHERE conv = ? ORDER BY id DESC').pluck();
  const snippet = db.prepare<[string, number], { snippet: string }>(SNIPPET_SQL);
  console.log(`\nthe same searches by words with the plan before (gather every match, sort by activity), ${RUNS} each:`);
  console.log('| search | p50 ms | p99 ms | max ms | searches/s | hits (mean) |');
  console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
  const words: [string, () => string][] = [
    ['by two words', () => `${pick(WORDS)} ${pick(WORDS)}`],
    ['by one common word', () => pick(WORDS)],
    ['by a rare word (order number)', () => `order ${Math.floor(rand() * N)}`],
  ];
  for (const [name, typed] of words) {
    const times: number[] = [];
    let hits = 0;
    const began = performance.now();
    for (let i = 0; i < RUNS; i++) {
      const match = parseSearch(SearchConversationsRequest.fromPartial({ words: typed() }), 'US').match!;
      const t = performance.now();
      const found = gather.all(match).slice(0, 50);
      for (const { id } of found) for (const m of messageIds.all(id) as unknown as number[]) if (snippet.get(match, m)) break;
      hits += found.length;
      times.push(performance.now() - t);
    }
    const rate = RUNS / ((performance.now() - began) / 1000);
    console.log(
      `| ${name} | ${percentile(times, 50)} | ${percentile(times, 99)} | ${percentile(times, 100)} | ${rate.toFixed(0)} | ${(hits / RUNS).toFixed(1)} |`,
    );
  }
  db.close();
}

/** The same rows in the store, the same searches as find() with a sort, each timed. */
async function timeStore(): Promise<void> {
  const client = await new MongoClient(MONGODB_URI).connect();
  const database = uniqueId('bench_search').replace(/-/g, '_');
  const c = client.db(database).collection<{ _id: string } & Document>('conversations');
  try {
    seed = 42;
    const started = performance.now();
    for (let from = 0; from < STORE_DOCS; from += 1000) {
      const docs = [];
      for (let i = from; i < Math.min(STORE_DOCS, from + 1000); i++) {
        const s = conversation(i);
        docs.push({
          _id: s.id,
          customerId: `cust-${s.customer}`,
          agentId: s.agent,
          queue: s.queue,
          state: s.resolved ? 'resolved' : 'assigned',
          lastActivityAt: new Date(s.at),
          text: s.text,
        });
      }
      await c.insertMany(docs);
    }
    for (const key of ['customerId', 'agentId', 'queue', 'lastActivityAt']) await c.createIndex({ [key]: 1, lastActivityAt: -1 });
    console.log(
      `\nstore (FerretDB 1.24, SQLite backend): ${STORE_DOCS.toLocaleString('en')} documents loaded in ${((performance.now() - started) / 1000).toFixed(1)} s, indexes created; ${STORE_RUNS} queries each, sorted by lastActivityAt, 50:`,
    );
    const customers = Math.max(1, Math.floor(STORE_DOCS / 5));
    const queries: [string, () => Document][] = [
      ['by customer', () => ({ customerId: `cust-${Math.floor(rand() * customers)}` })],
      ['by agent + state open', () => ({ agentId: `agent-${Math.floor(rand() * AGENTS)}`, state: 'assigned' })],
      ['by a word (regex)', () => ({ text: { $regex: `\\b${pick(WORDS)}\\b` } })],
      [
        'by queue + 1-day range',
        () => {
          const from = START + Math.floor(rand() * (SPAN - DAY));
          return { queue: `tier1/q${Math.floor(rand() * QUEUES)}/email`, lastActivityAt: { $gte: new Date(from), $lt: new Date(from + DAY) } };
        },
      ],
    ];
    console.log('| search | p50 ms | max ms |');
    console.log('| --- | ---: | ---: |');
    for (const [name, query] of queries) {
      const times: number[] = [];
      for (let i = 0; i < STORE_RUNS; i++) {
        const t = performance.now();
        await c.find(query()).sort({ lastActivityAt: -1 }).limit(50).toArray();
        times.push(performance.now() - t);
      }
      console.log(`| ${name} | ${percentile(times, 50)} | ${percentile(times, 100)} |`);
    }
  } finally {
    await client.db(database).dropDatabase();
    await client.close();
  }
}

async function main(): Promise<void> {
  console.log(`machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, load average ${loadavg()[0]!.toFixed(1)} at start`);
  const dir = mkdtempSync(join(tmpdir(), 'bench-search-'));
  const file = join(dir, 'conversations.sqlite');
  const index = new SqliteConversationIndex(file);
  try {
    const seconds = await load(index);
    const records = Math.round(N * 3.7);
    console.log(
      `loaded ${N.toLocaleString('en')} conversations (~${records.toLocaleString('en')} records) in ${seconds.toFixed(0)} s: ${Math.round(records / seconds).toLocaleString('en')} records/s; file ${(statSync(file).size / 2 ** 20).toFixed(0)} MiB`,
    );
    await timeIndex(index);
    timeGatherAndSort(file);
  } finally {
    index.close();
    rmSync(dir, { recursive: true, force: true });
  }
  await timeStore();
}

await main();
