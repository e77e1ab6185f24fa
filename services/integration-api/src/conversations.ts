// The integration API's own collections: which conversation a caller's thread is, and what each
// idempotent submission was given, so a retry gets the same contact in the same conversation.
// Insert-only claims keyed by `_id` (the local store may lose concurrent updates of a document,
// and finds only by `_id` quickly): two first messages of a thread at once open one conversation.
import type { Collection, Db } from 'mongodb';
import { newConversationId, newConversationReference } from '#libs/contact';
import { InsertBatcher } from '#libs/store';
import type { ThreadConversation } from './contact-request';

interface Thread {
  _id: string; // application|threadId
  conversationId: string;
  reference: string;
  openedAt: Date;
}

/** A submission with an Idempotency-Key, by its event id. */
export interface Submission {
  _id: string;
  fingerprint: string;
  conversationId: string;
  reference: string;
  newConversation: boolean;
  receivedAt: Date;
  /** Set once Kafka acknowledged it: a retry after that is answered without publishing again. */
  publishedAt?: Date;
}

export class ConversationStore {
  private readonly threads: Collection<Thread>;
  private readonly threadInserts: InsertBatcher<Thread>;
  private readonly submissions: Collection<Submission>;
  private readonly submissionInserts: InsertBatcher<Submission>;

  constructor(db: Db) {
    this.threads = db.collection('api_threads');
    this.threadInserts = new InsertBatcher(this.threads);
    this.submissions = db.collection('api_submissions');
    this.submissionInserts = new InsertBatcher(this.submissions);
  }

  /** The conversation of the caller's thread, opened by the first submission that claims it. */
  async claimThread(application: string, threadId: string, now: Date): Promise<ThreadConversation> {
    const _id = `${application}|${threadId}`;
    const known = await this.threads.findOne({ _id });
    if (known) return { conversationId: known.conversationId, reference: known.reference, isNew: false };
    const mine: Thread = { _id, conversationId: newConversationId(), reference: newConversationReference(), openedAt: now };
    if ((await this.threadInserts.insert(mine)) === 'inserted') return { conversationId: mine.conversationId, reference: mine.reference, isNew: true };
    const theirs = await this.threads.findOne({ _id });
    if (!theirs) throw new Error(`thread ${_id} was claimed but cannot be read`);
    return { conversationId: theirs.conversationId, reference: theirs.reference, isNew: false };
  }

  async submission(eventId: string): Promise<Submission | null> {
    return this.submissions.findOne({ _id: eventId });
  }

  async markPublished(eventId: string, at: Date): Promise<void> {
    await this.submissions.updateOne({ _id: eventId }, { $set: { publishedAt: at } });
  }

  /** Keeps what a submission was given; a concurrent retry's record wins, and is returned. */
  async remember(submission: Submission): Promise<Submission> {
    if ((await this.submissionInserts.insert(submission)) === 'inserted') return submission;
    const winner = await this.submissions.findOne({ _id: submission._id });
    if (!winner) throw new Error(`submission ${submission._id} was claimed but cannot be read`);
    return winner;
  }
}
