// The projection's parts (directory, conversation log) over staged collections: what one batch
// of records changes, held in memory and written in bulk by `flush`.
import type { RegularRule } from '../flags';
import { ConversationLog } from './conversation-log';
import { CustomerDirectory } from './customers';
import type { CustomerMerges } from './merges';
import type { HistoryRecord } from '../history';
import type { Collections, ConversationDoc, CustomerDoc, IdentityDoc } from './records';
import { StagedCollection, UnstageableWriteError } from './staged';
import { WriteQueue } from './write-queue';

export class StagedStore {
  readonly customers: StagedCollection<CustomerDoc>;
  readonly identities: StagedCollection<IdentityDoc>;
  readonly conversations: StagedCollection<ConversationDoc>;
  readonly history: StagedCollection<HistoryRecord>;
  readonly pending: StagedCollection<{ _id: string; entryIds: string[] }>;
  readonly directory: CustomerDirectory;
  readonly conversationLog: ConversationLog;
  /** A merge touches documents by other fields than `_id`: records that may merge are not staged. */
  readonly merging = {
    link: () => Promise.reject(new UnstageableWriteError('a merge of customers')),
  } as unknown as CustomerMerges;
  private readonly changed = new Set<string>();

  constructor(c: Collections, rule: RegularRule) {
    this.customers = new StagedCollection(c.customers);
    this.identities = new StagedCollection(c.identities);
    this.conversations = new StagedCollection(c.conversations);
    this.history = new StagedCollection(c.history);
    this.pending = new StagedCollection(c.pending);
    const staged: Collections = {
      ...c,
      customers: this.customers.asCollection(),
      identities: this.identities.asCollection(),
      conversations: this.conversations.asCollection(),
      history: this.history.asCollection(),
      pending: this.pending.asCollection(),
    };
    const writes = new WriteQueue((ids) => {
      if (ids !== 'all') for (const id of ids) this.changed.add(id);
    });
    this.directory = new CustomerDirectory(staged, writes);
    this.conversationLog = new ConversationLog(staged, writes, rule);
  }

  /**
   * Writes the batch, in the order that keeps a crash half-way harmless: identity claims first
   * (a claim without its customer is completed by the next contact), then the history entries
   * (an entry stored says its effects were applied, as one by one), then what they changed.
   * Returns the customers whose data changed.
   */
  async flush(): Promise<string[]> {
    await this.identities.flush(true);
    await this.history.flush(false);
    await this.pending.flush(false);
    await this.conversations.flush(false);
    // Inserted whole: the local store's upsert drops empty arrays and nulls from $setOnInsert.
    await this.customers.flush(true);
    return [...this.changed];
  }
}
