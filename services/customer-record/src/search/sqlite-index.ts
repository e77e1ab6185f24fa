// The search index in a SQLite file (better-sqlite3, FTS5), one per instance. Each batch of
// records is applied in one transaction together with the offset after it, so a restart resumes
// exactly where the file stands: a crash never doubles or skips, and a new file rebuilds from the
// topics' beginning.
import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ConversationIndex, IndexBatch, IndexedConversation, SearchPage, SearchScope } from './conversation-index';
import type { SearchFilter } from './filter';
import { SNIPPET_SQL, searchQuery, wordSearchQuery } from './query';
import type { ContactReceived, ConversationEvent } from '#libs/proto';
import type { NormalisedIdentity } from '#libs/contact';
import { applyContact, applyConversationEvent, type ConversationRow, type IndexedMessage } from './rows';
import { SCHEMA, SCHEMA_VERSION } from './sqlite-schema';
import { fold, nameMatch } from './folding';

/** A conversation as a transaction changes it: written once at the end with what it gathered. */
interface Pending {
  row: ConversationRow | null;
  changed: boolean;
  messages: IndexedMessage[];
  identities: NormalisedIdentity[];
  /** The first name a sender of the conversation gave in these batches. */
  senderName?: string;
}

/** Places per millisecond in a message's id: messages of the same millisecond take the next ones. */
const IDS_PER_MS = 1024;
/** Up to this many conversations left by the other filters, a search by words looks into each. */
const WORDS_WITHIN = 2000;

interface ResultRow {
  id: number;
  conversation_id: string;
  customer_id: string;
  channel: number;
  state: IndexedConversation['state'];
  queue: string;
  agent_id: string;
  started_at: number;
  last_activity_at: number;
  message_count: number;
  subject: string;
}

type WordHitRow = ResultRow & { hit: number };

export class SqliteConversationIndex implements ConversationIndex {
  private readonly db: Database.Database;
  private readonly statements;
  /** Applies batches in one transaction (the benchmark loads through it, as the consumer's apply does). */
  readonly applyMany: (batches: IndexBatch[]) => void;

  constructor(file: string) {
    this.db = openCurrent(file);
    this.db.pragma('journal_mode = WAL');
    // A crash of the process loses nothing committed; only one of the machine may lose the last commits, which the topics replay.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?), (?, ?)').run('schema', String(SCHEMA_VERSION), 'index_id', randomUUID());
    const db = this.db;
    this.statements = {
      find: db.prepare<[string], { doc: string }>('SELECT doc FROM conversations WHERE conversation_id = ?'),
      upsert: db.prepare<(string | number)[], { id: number }>(
        `INSERT INTO conversations (conversation_id, customer_id, channel, state, queue, agent_id, started_at, last_activity_at, message_count, subject, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (conversation_id) DO UPDATE SET customer_id = excluded.customer_id, channel = excluded.channel, state = excluded.state,
           queue = excluded.queue, agent_id = excluded.agent_id, started_at = excluded.started_at, last_activity_at = excluded.last_activity_at,
           message_count = excluded.message_count, subject = excluded.subject, doc = excluded.doc
         RETURNING id`,
      ),
      text: db.prepare<[number, number, string]>('INSERT OR IGNORE INTO message_texts (id, conv, text) VALUES (?, ?, ?)'),
      lastIdIn: db.prepare<[number, number], { id: number | null }>('SELECT max(id) AS id FROM message_texts WHERE id >= ? AND id < ?'),
      textAfterAll: db.prepare<[number, string], { id: number }>('INSERT INTO message_texts (conv, text) VALUES (?, ?) RETURNING id'),
      fts: db.prepare<[number, string]>('INSERT INTO messages (rowid, text) VALUES (?, ?)'),
      identity: db.prepare<[number, string, number]>('INSERT OR IGNORE INTO identities (kind, value, conv) VALUES (?, ?, ?)'),
      name: db.prepare<[number, string]>('INSERT OR IGNORE INTO sender_names (conv, name) VALUES (?, ?)'),
      nameFts: db.prepare<[number, string]>('INSERT INTO names (rowid, name) VALUES (?, ?)'),
      named: db.prepare<[string], { customer_id: string }>(
        "SELECT c.customer_id FROM names JOIN conversations c ON c.id = names.rowid WHERE names MATCH ? AND c.customer_id != '' ORDER BY names.rowid DESC",
      ),
      person: db.prepare<[string, number, number | null]>(
        'INSERT INTO people (person_id, conv, released_at) VALUES (?, ?, ?) ON CONFLICT (person_id, conv) DO UPDATE SET released_at = excluded.released_at',
      ),
      position: db.prepare<[string, number], { next_offset: string }>('SELECT next_offset FROM positions WHERE topic = ? AND partition = ?'),
      setPosition: db.prepare<[string, number, string]>(
        'INSERT INTO positions (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset',
      ),
      positions: db.prepare<[], { topic: string; partition: number; next_offset: string }>('SELECT topic, partition, next_offset FROM positions'),
      snippet: db.prepare<[string, number], { snippet: string }>(SNIPPET_SQL),
      messages: db.prepare<[number], { id: number; text: string }>('SELECT id, text FROM message_texts WHERE conv = ? ORDER BY id DESC'),
    };
    this.applyMany = db.transaction((batches: IndexBatch[]) => this.applyBatches(batches));
  }

  /** The id this file was created with: its own consumer group, so every instance reads every partition. */
  indexId(): string {
    return this.db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'index_id'").get()!.value;
  }

  async apply(batch: IndexBatch): Promise<void> {
    this.applyMany([batch]);
  }

  async positions(): Promise<Map<string, string>> {
    return new Map(this.statements.positions.all().map((p) => [`${p.topic}:${p.partition}`, p.next_offset]));
  }

  async search(filter: SearchFilter, scope: SearchScope): Promise<SearchPage> {
    if (filter.match !== undefined) return this.searchWords({ ...filter, match: filter.match }, scope);
    const q = searchQuery(filter, scope);
    const rows = this.db.prepare<(string | number)[], ResultRow>(q.sql).all(...q.params);
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return {
      hits: page.map((r) => hitOf(r, scope, '')),
      next: rows.length > filter.limit && last ? { lastActivityAt: last.last_activity_at, seq: last.id } : undefined,
    };
  }

  /**
   * Newest matching message first, a conversation once, at the place of its newest match. Where
   * the other filters leave few conversations (an agent's own, a customer's), each of them is
   * looked into; otherwise the matches are walked newest first until a page is full.
   */
  private searchWords(filter: SearchFilter & { match: string }, scope: SearchScope): SearchPage {
    const after = filter.after && 'messageSeq' in filter.after ? filter.after.messageSeq : undefined;
    const rows = this.wordHitsWithin(filter, scope, after) ?? this.wordHitsByWalk(filter, scope, after);
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    return {
      hits: page.map((r) => hitOf(r, scope, scope.withContents ? (this.statements.snippet.get(filter.match, r.hit)?.snippet ?? '') : '')),
      next: rows.length > filter.limit && last ? { messageSeq: last.hit } : undefined,
    };
  }

  private wordHitsByWalk(filter: SearchFilter & { match: string }, scope: SearchScope, after: number | undefined): WordHitRow[] {
    const q = wordSearchQuery(filter, scope);
    const seen = new Set<number>();
    const rows: WordHitRow[] = [];
    for (const r of this.db.prepare<(string | number)[], WordHitRow>(q.sql).iterate(...q.params)) {
      if (seen.has(r.id)) continue;
      seen.add(r.id);
      // Its newest match is at or above where the last page ended: it was on an earlier page.
      if (after !== undefined && this.newestMatch(filter.match, r.id) !== r.hit) continue;
      rows.push(r);
      if (rows.length > filter.limit) break;
    }
    return rows;
  }

  /** The hits among the conversations the other filters leave, when they are at most WORDS_WITHIN; undefined otherwise. */
  private wordHitsWithin(filter: SearchFilter & { match: string }, scope: SearchScope, after: number | undefined): WordHitRow[] | undefined {
    if (!filter.customerId && !filter.conversationId && !filter.identity && !filter.agentId && !scope.readerId) return undefined;
    const q = searchQuery({ ...filter, match: undefined, after: undefined, limit: WORDS_WITHIN }, scope);
    const candidates = this.db.prepare<(string | number)[], ResultRow>(q.sql).all(...q.params);
    if (candidates.length > WORDS_WITHIN) return undefined;
    const terms = foldedTerms(filter.match);
    const hits: WordHitRow[] = [];
    for (const c of candidates) {
      const hit = this.newestMatch(filter.match, c.id, terms);
      if (hit !== undefined && (after === undefined || hit < after)) hits.push({ ...c, hit });
    }
    return hits.sort((a, b) => b.hit - a.hit).slice(0, filter.limit + 1);
  }

  /**
   * The id of the conversation's newest message that matches, if any. Asking FTS5 costs a seek in
   * each word's list per message, so messages without every word in their folded text are passed
   * by first; FTS5 has the last word on the others.
   */
  private newestMatch(match: string, conv: number, terms = foldedTerms(match)): number | undefined {
    for (const m of this.statements.messages.all(conv))
      if (terms.every((t) => fold(m.text).includes(t)) && this.statements.snippet.get(match, m.id)) return m.id;
    return undefined;
  }

  async customersNamed(words: readonly string[], limit: number): Promise<string[]> {
    const match = nameMatch(words);
    if (!match) return [];
    const found = new Set<string>();
    for (const r of this.statements.named.iterate(match)) {
      found.add(r.customer_id);
      if (found.size >= limit) break;
    }
    return [...found];
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /** Deletes the rows of these conversations and of every conversation of these customers (an erasure); how many conversations. */
  forget(conversationIds: readonly string[], customerIds: readonly string[]): number {
    const db = this.db;
    const byConversation = db.prepare<[string], { id: number }>('SELECT id FROM conversations WHERE conversation_id = ?');
    const byCustomer = db.prepare<[string], { id: number }>('SELECT id FROM conversations WHERE customer_id = ?');
    return db.transaction(() => {
      const ids = new Set<number>();
      for (const c of conversationIds) for (const r of byConversation.all(c)) ids.add(r.id);
      for (const c of customerIds) for (const r of byCustomer.all(c)) ids.add(r.id);
      for (const id of ids) this.deleteConversation(id);
      return ids.size;
    })();
  }

  /**
   * Retention: texts of conversations last active before `textsBefore` and whole rows of those last
   * active before `rowsBefore` (epoch ms); the counts deleted.
   */
  sweep(textsBefore: number, rowsBefore: number): { texts: number; conversations: number } {
    const db = this.db;
    return db.transaction(() => {
      const stale = db.prepare<[number], { id: number }>('SELECT id FROM conversations WHERE last_activity_at < ?').all(rowsBefore);
      for (const r of stale) this.deleteConversation(r.id);
      const withTexts = db
        .prepare<[number], { id: number }>('SELECT DISTINCT c.id FROM conversations c JOIN message_texts m ON m.conv = c.id WHERE c.last_activity_at < ?')
        .all(textsBefore);
      let texts = 0;
      for (const r of withTexts) texts += this.deleteTexts(r.id);
      return { texts, conversations: stale.length };
    })();
  }

  private deleteConversation(id: number): void {
    this.deleteTexts(id);
    const name = this.db.prepare<[number], { name: string }>('SELECT name FROM sender_names WHERE conv = ?').get(id);
    if (name) this.db.prepare<[number, string]>("INSERT INTO names (names, rowid, name) VALUES ('delete', ?, ?)").run(id, name.name);
    this.db.prepare('DELETE FROM sender_names WHERE conv = ?').run(id);
    this.db.prepare('DELETE FROM identities WHERE conv = ?').run(id);
    this.db.prepare('DELETE FROM people WHERE conv = ?').run(id);
    this.db.prepare('DELETE FROM conversations WHERE id = ?').run(id);
  }

  /** An external-content FTS5 table forgets a row only when told its old text. */
  private deleteTexts(conv: number): number {
    const rows = this.db.prepare<[number], { id: number; text: string }>('SELECT id, text FROM message_texts WHERE conv = ?').all(conv);
    const unindex = this.db.prepare<[number, string]>("INSERT INTO messages (messages, rowid, text) VALUES ('delete', ?, ?)");
    for (const r of rows) unindex.run(r.id, r.text);
    this.db.prepare('DELETE FROM message_texts WHERE conv = ?').run(conv);
    return rows.length;
  }

  /** Applies batches in the open transaction; each conversation they touch is read once and written once. */
  private applyBatches(batches: IndexBatch[]): void {
    const pending = new Map<string, Pending>();
    for (const batch of batches) this.applyBatch(batch, pending);
    for (const p of pending.values()) if (p.changed) this.write(p);
  }

  private applyBatch(batch: IndexBatch, pending: Map<string, Pending>): void {
    const { topic, partition } = batch;
    const stored = this.statements.position.get(topic, partition);
    const from = stored ? BigInt(stored.next_offset) : -1n;
    for (const r of batch.records) {
      // Already in the file: a batch fetched again after a restart or a rebalance.
      if (BigInt(r.offset) < from) continue;
      const id = r.value.conversationId;
      let p = pending.get(id);
      if (!p) pending.set(id, (p = this.load(id)));
      const change = batch.kind === 'contacts' ? applyContact(p.row, r.value as ContactReceived) : applyConversationEvent(p.row, r.value as ConversationEvent);
      if (!change) continue;
      p.row = change.row;
      p.changed = true;
      if (change.message) p.messages.push(change.message);
      if (change.identity) p.identities.push(change.identity);
      p.senderName ??= change.senderName;
    }
    if (from < BigInt(batch.nextOffset)) this.statements.setPosition.run(topic, partition, batch.nextOffset);
  }

  private load(conversationId: string): Pending {
    const found = this.statements.find.get(conversationId);
    const row = found ? (JSON.parse(found.doc, reviveDates) as ConversationRow) : null;
    return { row, changed: false, messages: [], identities: [] };
  }

  /** A message's id is its time: the first free place of its millisecond, or after every id when those are taken. */
  private insertText(conv: number, m: IndexedMessage): number {
    const first = Math.max(0, Math.floor(m.at)) * IDS_PER_MS;
    if (this.statements.text.run(first, conv, m.text).changes) return first;
    const next = (this.statements.lastIdIn.get(first, first + IDS_PER_MS)?.id ?? first) + 1;
    if (next < first + IDS_PER_MS && this.statements.text.run(next, conv, m.text).changes) return next;
    return this.statements.textAfterAll.get(conv, m.text)!.id;
  }

  private write(p: Pending): void {
    const row = p.row!;
    const { id } = this.statements.upsert.get(
      row.conversationId,
      row.customerId,
      row.channel,
      row.state,
      row.queue,
      row.agentId,
      row.startedAt,
      row.lastActivityAt,
      row.messageCount,
      row.subject,
      JSON.stringify(row),
    )!;
    for (const m of p.messages) this.statements.fts.run(this.insertText(id, m), m.text);
    for (const i of p.identities) this.statements.identity.run(i.kind, i.value, id);
    // The conversation keeps the first name its sender gave.
    if (p.senderName && this.statements.name.run(id, p.senderName).changes) this.statements.nameFts.run(id, p.senderName);
    for (const person of row.access.people) this.statements.person.run(person.personId, id, person.releasedAt ? person.releasedAt.getTime() : null);
  }
}

/** The words of an FTS query as filter.ts builds it (`"refund" AND "card"`), folded. */
function foldedTerms(match: string): string[] {
  return [...match.matchAll(/"((?:[^"]|"")*)"/g)].map((m) => fold(m[1]!.replaceAll('""', '"')));
}

function hitOf(r: ResultRow, scope: SearchScope, snippet: string): IndexedConversation {
  return {
    conversationId: r.conversation_id,
    customerId: r.customer_id,
    channel: r.channel,
    state: r.state,
    queue: r.queue,
    agentId: r.agent_id,
    startedAt: r.started_at,
    lastActivityAt: r.last_activity_at,
    messageCount: r.message_count,
    subject: scope.withContents ? r.subject : '',
    snippet,
  };
}

/** The file at the schema this code writes: a file of an earlier schema is a projection, dropped and rebuilt from the topics. */
function openCurrent(file: string): Database.Database {
  if (file === ':memory:') return new Database(file);
  mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  const meta = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'").get();
  const stored = meta ? db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'schema'").get()?.value : undefined;
  if (stored === undefined || stored === String(SCHEMA_VERSION)) return db;
  db.close();
  for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
  return new Database(file);
}

/** JSON gives the access dates back as strings; the rules work on dates. */
function reviveDates(key: string, value: unknown): unknown {
  return (key === 'since' || key === 'releasedAt' || key === 'endedAt') && typeof value === 'string' ? new Date(value) : value;
}
