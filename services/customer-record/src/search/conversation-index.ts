// The search projection's contract: what the Kafka consumer and the API need of an index. SQLite
// (sqlite-index.ts) backs it on each instance; a deployment could back it with a search cluster.
import type { ContactReceived, ConversationEvent } from '#libs/proto';
import type { NormalisedIdentity } from '#libs/contact';
import type { ConversationState, SearchCursor, SearchFilter } from './filter';

/** One fetched batch of one partition: its records, and the offset after the last of them. */
export type IndexBatch =
  | { kind: 'contacts'; topic: string; partition: number; nextOffset: string; records: { offset: string; value: ContactReceived }[] }
  | { kind: 'events'; topic: string; partition: number; nextOffset: string; records: { offset: string; value: ConversationEvent }[] };

/** Who is searching: agents and experts find only what they may read; ops never texts. */
export interface SearchScope {
  /** Set for agents and experts: only conversations offered to or held by them (recently). */
  readerId?: string;
  /** How long after a conversation stopped being theirs they may still find it. */
  windowMs: number;
  now: number;
  /** Subjects and snippets; false for ops. */
  withContents: boolean;
  /** The customer's own identities: their conversations are found by sender too. */
  customerIdentities?: readonly NormalisedIdentity[];
}

export interface IndexedConversation {
  conversationId: string;
  customerId: string;
  channel: number;
  state: ConversationState;
  queue: string;
  agentId: string;
  startedAt: number;
  lastActivityAt: number;
  messageCount: number;
  subject: string;
  snippet: string;
}

export interface SearchPage {
  hits: IndexedConversation[];
  next?: SearchCursor;
}

export interface ConversationIndex {
  /** Applies the batch and records its position in one step: it is applied wholly or not at all. */
  apply(batch: IndexBatch): Promise<void>;
  /** The next offset to apply, per topic and partition, as `topic:partition`. */
  positions(): Promise<Map<string, string>>;
  search(filter: SearchFilter, scope: SearchScope): Promise<SearchPage>;
  /**
   * Customers of the conversations whose sender gave a name holding every word (each the start
   * of one of the name's words, case and accents aside), newest conversation first, at most `limit`.
   */
  customersNamed(words: readonly string[], limit: number): Promise<string[]>;
  close(): void;
}
