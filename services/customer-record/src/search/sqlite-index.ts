// The search index in a SQLite file (better-sqlite3, FTS5), one per instance. Each batch of
// records is applied in one transaction together with the offset after it, so a restart resumes
// exactly where the file stands: a crash never doubles or skips, and a new file rebuilds from the
// topics' beginning.
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';
import type { ConversationIndex, IndexBatch, IndexedConversation, SearchPage, SearchScope } from './conversation-index';
import type { SearchFilter } from './filter';
import { SNIPPET_SQL, searchQuery } from './query';
import { applyContact, applyConversationEvent, type ConversationRow, type RowChange } from './rows';
import { SCHEMA, SCHEMA_VERSION } from './sqlite-schema';

type Stored = { id: number; row: ConversationRow };

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

export class SqliteConversationIndex implements ConversationIndex {
  private readonly db: Database.Database;
  private readonly statements;
  /** Applies a batch in one transaction (exported for the benchmark's bulk load through the same code). */
  readonly applyNow: (batch: IndexBatch) => void;
  readonly applyMany: (batches: IndexBatch[]) => void;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // A crash of the process loses nothing committed; only one of the machine may lose the last commits, which the topics replay.
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(SCHEMA);
    this.db.prepare('INSERT OR IGNORE INTO meta (key, value) VALUES (?, ?), (?, ?)').run('schema', String(SCHEMA_VERSION), 'index_id', randomUUID());
    const db = this.db;
    this.statements = {
      find: db.prepare<[string], { id: number; doc: string }>('SELECT id, doc FROM conversations WHERE conversation_id = ?'),
      upsert: db.prepare<(string | number)[], { id: number }>(
        `INSERT INTO conversations (conversation_id, customer_id, channel, state, queue, agent_id, started_at, last_activity_at, message_count, subject, doc)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (conversation_id) DO UPDATE SET customer_id = excluded.customer_id, channel = excluded.channel, state = excluded.state,
           queue = excluded.queue, agent_id = excluded.agent_id, started_at = excluded.started_at, last_activity_at = excluded.last_activity_at,
           message_count = excluded.message_count, subject = excluded.subject, doc = excluded.doc
         RETURNING id`,
      ),
      text: db.prepare<[number, string], { id: number }>('INSERT INTO message_texts (conv, text) VALUES (?, ?) RETURNING id'),
      fts: db.prepare<[number, string]>('INSERT INTO messages (rowid, text) VALUES (?, ?)'),
      identity: db.prepare<[number, string, number]>('INSERT OR IGNORE INTO identities (kind, value, conv) VALUES (?, ?, ?)'),
      person: db.prepare<[string, number, number | null]>(
        'INSERT INTO people (person_id, conv, released_at) VALUES (?, ?, ?) ON CONFLICT (person_id, conv) DO UPDATE SET released_at = excluded.released_at',
      ),
      position: db.prepare<[string, number, string]>(
        'INSERT INTO positions (topic, partition, next_offset) VALUES (?, ?, ?) ON CONFLICT (topic, partition) DO UPDATE SET next_offset = excluded.next_offset',
      ),
      positions: db.prepare<[], { topic: string; partition: number; next_offset: string }>('SELECT topic, partition, next_offset FROM positions'),
      snippet: db.prepare<[string, number], { snippet: string }>(SNIPPET_SQL),
    };
    this.applyNow = db.transaction((batch: IndexBatch) => this.applyBatch(batch));
    this.applyMany = db.transaction((batches: IndexBatch[]) => {
      for (const b of batches) this.applyBatch(b);
    });
  }

  /** The id this file was created with: its own consumer group, so every instance reads every partition. */
  indexId(): string {
    return this.db.prepare<[], { value: string }>("SELECT value FROM meta WHERE key = 'index_id'").get()!.value;
  }

  async apply(batch: IndexBatch): Promise<void> {
    this.applyNow(batch);
  }

  async positions(): Promise<Map<string, string>> {
    return new Map(this.statements.positions.all().map((p) => [`${p.topic}:${p.partition}`, p.next_offset]));
  }

  async search(filter: SearchFilter, scope: SearchScope): Promise<SearchPage> {
    const q = searchQuery(filter, scope);
    const rows = this.db.prepare<(string | number)[], ResultRow>(q.sql).all(...q.params);
    const page = rows.slice(0, filter.limit);
    const last = page.at(-1);
    const snippetQuery = scope.withContents && filter.match ? filter.match.join(' OR ') : undefined;
    return {
      hits: page.map((r) => ({
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
        snippet: snippetQuery ? (this.statements.snippet.get(snippetQuery, r.id)?.snippet ?? '') : '',
      })),
      next: rows.length > filter.limit && last ? { lastActivityAt: last.last_activity_at, seq: last.id } : undefined,
    };
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  private applyBatch(batch: IndexBatch): void {
    const { topic, partition } = batch;
    const stored = this.statements.positions.all().find((p) => p.topic === topic && p.partition === partition);
    const from = stored ? BigInt(stored.next_offset) : -1n;
    const rows = new Map<string, Stored | null>();
    for (const r of batch.records) {
      // Already in the file: a batch fetched again after a restart or a rebalance.
      if (BigInt(r.offset) < from) continue;
      const id = r.value.conversationId;
      const current = rows.has(id) ? rows.get(id)! : this.load(id);
      const change =
        batch.kind === 'contacts' ? applyContact(current?.row ?? null, r.value as never) : applyConversationEvent(current?.row ?? null, r.value as never);
      if (change) rows.set(id, this.write(change));
      else rows.set(id, current);
    }
    if (from < BigInt(batch.nextOffset)) this.statements.position.run(topic, partition, batch.nextOffset);
  }

  private load(conversationId: string): Stored | null {
    const found = this.statements.find.get(conversationId);
    return found ? { id: found.id, row: JSON.parse(found.doc, reviveDates) as ConversationRow } : null;
  }

  private write({ row, message, identity }: RowChange): Stored {
    const doc = JSON.stringify(row);
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
      doc,
    )!;
    if (message) {
      const text = this.statements.text.get(id, message.text)!;
      this.statements.fts.run(text.id, message.text);
    }
    if (identity) this.statements.identity.run(identity.kind, identity.value, id);
    for (const p of row.access.people) this.statements.person.run(p.personId, id, p.releasedAt ? new Date(p.releasedAt).getTime() : null);
    return { id, row };
  }
}

/** JSON gives the access dates back as strings; the rules work on dates. */
function reviveDates(key: string, value: unknown): unknown {
  return (key === 'since' || key === 'releasedAt' || key === 'endedAt') && typeof value === 'string' ? new Date(value) : value;
}
