// MongoDB adapter: the only writer of customer data, in parts that each keep one thing (store/).
// The parts of one store share one write queue, so this process's writes stay one at a time.
import type { Db } from 'mongodb';
import type { RegularRule } from './flags';
import type { NormalisedIdentity } from '#libs/contact';
import { ConversationLog } from './store/conversation-log';
import { CustomerDirectory } from './store/customers';
import { CustomerErasure } from './store/erasure';
import { RetentionStore } from './store/retention';
import { FlagSettings } from './store/flag-settings';
import { Intermediaries } from './store/intermediaries';
import { CustomerMerges } from './store/merges';
import { PagedReads } from './store/pages';
import { ensureIndexes, openCollections, type Collections, type ConversationDoc, type CustomerDoc } from './store/records';
import { StagedStore } from './store/stage';
import { WriteQueue, type ChangeListener } from './store/write-queue';

export type { AuditDoc, ConversationDoc, CustomerDoc, IdentityDoc } from './store/records';

export class CustomerStore implements Collections {
  readonly customers: Collections['customers'];
  readonly identities: Collections['identities'];
  readonly conversations: Collections['conversations'];
  readonly history: Collections['history'];
  readonly accounts: Collections['accounts'];
  readonly audit: Collections['audit'];
  readonly merges: Collections['merges'];
  readonly pending: Collections['pending'];

  /** Customers and their identities. */
  readonly directory: CustomerDirectory;
  /** Identity links, merges and unmerges. */
  readonly merging: CustomerMerges;
  /** Conversations and history entries, as the projection writes them. */
  readonly conversationLog: ConversationLog;
  /** Supervisors' flags and accounts. */
  readonly flagSettings: FlagSettings;
  /** History and audit, page by page. */
  readonly pages: PagedReads;
  /** Intermediaries and their mandates. */
  readonly intermediaries: Intermediaries;
  /** A customer's data gathered for an export, or deleted for an erasure. */
  readonly erasure: CustomerErasure;
  /** The retention sweep's deletes. */
  readonly retention: RetentionStore;
  private readonly collections: Collections;
  private readonly writes: WriteQueue;

  /** `changed` is told every customer id whose data changed, so caches can drop it. */
  constructor(
    db: Db,
    private readonly rule: RegularRule,
    changed?: ChangeListener,
  ) {
    const collections = openCollections(db);
    this.customers = collections.customers;
    this.identities = collections.identities;
    this.conversations = collections.conversations;
    this.history = collections.history;
    this.accounts = collections.accounts;
    this.audit = collections.audit;
    this.merges = collections.merges;
    this.pending = collections.pending;
    const writes = new WriteQueue(changed);
    this.collections = collections;
    this.writes = writes;
    this.directory = new CustomerDirectory(collections, writes);
    this.merging = new CustomerMerges(collections, writes, this.directory, rule);
    this.conversationLog = new ConversationLog(collections, writes, rule);
    this.flagSettings = new FlagSettings(collections, writes, this.directory);
    this.pages = new PagedReads(collections);
    this.intermediaries = new Intermediaries(db, collections, writes, this.directory);
    this.erasure = new CustomerErasure(db, collections, writes);
    this.retention = new RetentionStore(db, collections, writes);
  }

  /**
   * Runs the projection's work for a batch on a staged copy of its collections, alone among this
   * store's writes, and writes the result in bulk (store/staged.ts).
   */
  staged(work: (stage: StagedStore) => Promise<void>): Promise<void> {
    return this.writes.exclusive(async () => {
      const stage = new StagedStore(this.collections, this.rule);
      await work(stage);
      this.writes.changed(await stage.flush());
    });
  }

  ensureIndexes(): Promise<void> {
    return ensureIndexes(this);
  }

  // The look-ups that tests and the benchmark make of a whole store.

  resolve(identity: NormalisedIdentity, displayName: string): ReturnType<CustomerDirectory['resolve']> {
    return this.directory.resolve(identity, displayName);
  }

  getCustomer(customerId: string): Promise<CustomerDoc> {
    return this.directory.getCustomer(customerId);
  }

  findCustomerId(identity: NormalisedIdentity): Promise<string | null> {
    return this.directory.findCustomerId(identity);
  }

  findConversation(conversationId: string): Promise<ConversationDoc | null> {
    return this.conversationLog.findConversation(conversationId);
  }
}
