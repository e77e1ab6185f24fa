// Every call made with a known API key is written here before it is answered: which key, what
// it asked (the route, never the body), the answer's status, and the customer or contact it
// touched. Entries recorded at once share one write (InsertBatcher). A call whose entry cannot
// be stored is not answered with data: the caller gets 503 and tries again.
import { randomUUID } from 'node:crypto';
import type { Collection, Db } from 'mongodb';
import { InsertBatcher } from '#libs/store';

export interface ApiAuditEntry {
  _id: string;
  at: Date;
  keyId: string;
  application: string;
  method: string;
  /** The route as the document names it (`/v1/customers/{customerId}`), so no customer id sits in a path field. */
  route: string;
  status: number;
  customerId?: string;
  contactId?: string;
  /** The webhook subscription a webhooks:manage call touched. */
  webhookId?: string;
  conversationId?: string;
  /** What the caller said the read was for. */
  reason?: string;
}

export class ApiAudit {
  readonly entries: Collection<ApiAuditEntry>;
  private readonly inserts: InsertBatcher<ApiAuditEntry>;

  constructor(db: Db) {
    this.entries = db.collection<ApiAuditEntry>('api_audit');
    this.inserts = new InsertBatcher(this.entries);
  }

  async record(entry: Omit<ApiAuditEntry, '_id' | 'at'>): Promise<void> {
    await this.inserts.insert({ _id: randomUUID(), at: new Date(), ...entry });
  }
}
