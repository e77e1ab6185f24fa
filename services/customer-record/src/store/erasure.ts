// A data-protection request against the store: everything held about one customer, gathered for
// an export, and the same deleted for an erasure. A customer is the live record and every record
// merged into it, with their identities, conversations, history and waiting entries, the
// conversations' access records, the mandates intermediaries hold for them and the audit of reads of them. These reads filter on fields
// other than _id (a scan on FerretDB): a rare officer's request, not a hot path.
import type { Db } from 'mongodb';
import { NotFoundError } from '#libs/service';
import type { HistoryRecord } from '../history';
import type { NormalisedIdentity } from '#libs/contact';
import type { IntermediaryDoc, MandateDoc } from '../mandates';
import type { AuditDoc, Collections, ConversationDoc, CustomerDoc, IdentityDoc, MergeDoc } from './records';
import type { WriteQueue } from './write-queue';

/** Everything the store holds about one customer. */
export interface CustomerHoldings {
  customer: CustomerDoc;
  /** Records merged into this one (pointers now, with what they still hold). */
  mergedCustomers: CustomerDoc[];
  identities: IdentityDoc[];
  conversations: ConversationDoc[];
  history: HistoryRecord[];
  merges: MergeDoc[];
  /** Who may act for the customer: each intermediary's mandates for them, revoked ones too. */
  mandates: { intermediaryId: string; intermediaryName: string; mandate: MandateDoc }[];
  /** Who read this customer's data, when and why. */
  audit: AuditDoc[];
}

export interface ErasedCounts {
  customers: number;
  identities: number;
  conversations: number;
  historyEntries: number;
  auditEntries: number;
  mandates: number;
}

export class CustomerErasure {
  private readonly access;
  private readonly intermediaries;

  constructor(
    db: Db,
    private readonly c: Collections,
    private readonly writes: WriteQueue,
  ) {
    this.access = db.collection<{ _id: string }>('conversation_access');
    this.intermediaries = db.collection<IntermediaryDoc>('intermediaries');
  }

  /** The customer's holdings; NotFoundError for an unknown id or a record merged into another. */
  async gather(customerId: string): Promise<CustomerHoldings> {
    const customer = await this.c.customers.findOne({ _id: customerId });
    if (!customer) throw new NotFoundError(`no customer ${customerId}`);
    if (customer.mergedInto) throw new NotFoundError(`customer ${customerId} was merged into ${customer.mergedInto}; ask for that customer`);
    const mergedCustomers = await this.c.customers.find({ mergedInto: customerId }).toArray();
    const ids = [customerId, ...mergedCustomers.map((m) => m._id)];
    const [identities, conversations, history, merges, audit, intermediaries] = await Promise.all([
      this.c.identities.find({ customerId: { $in: ids } }).toArray(),
      this.c.conversations.find({ customerId: { $in: ids } }).toArray(),
      this.c.history.find({ customerId: { $in: ids } }).toArray(),
      this.c.merges.find({ $or: [{ targetId: { $in: ids } }, { sourceId: { $in: ids } }] }).toArray(),
      this.c.audit.find({ customerId: { $in: ids } }).toArray(),
      this.intermediaries.find({ 'mandates.customerId': { $in: ids } }).toArray(),
    ]);
    history.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
    audit.sort((a, b) => a.at.getTime() - b.at.getTime());
    const mandates = intermediaries.flatMap((i) =>
      i.mandates.filter((m) => ids.includes(m.customerId)).map((mandate) => ({ intermediaryId: i._id, intermediaryName: i.name, mandate })),
    );
    return { customer, mergedCustomers, identities, conversations, history, merges, mandates, audit };
  }

  /**
   * FerretDB's $pull takes no condition on a field of the array's documents, so each intermediary
   * holding a mandate is read and written back; intermediaries are written under the same queue
   * as this, so no change of theirs is lost.
   */
  private async dropMandates(held: CustomerHoldings, customerIds: string[]): Promise<void> {
    for (const id of new Set(held.mandates.map((m) => m.intermediaryId))) {
      const doc = await this.intermediaries.findOne({ _id: id });
      if (doc) await this.intermediaries.updateOne({ _id: id }, { $set: { mandates: doc.mandates.filter((m) => !customerIds.includes(m.customerId)) } });
    }
  }

  /**
   * Deletes the holdings. Audit entries stay as a record that staff read someone, but lose who:
   * their customer id becomes `pseudonym` and their reason (free text) is emptied.
   */
  erase(held: CustomerHoldings, pseudonym: string): Promise<ErasedCounts> {
    return this.writes.exclusive(async () => {
      const customerIds = [held.customer._id, ...held.mergedCustomers.map((m) => m._id)];
      const conversationIds = held.conversations.map((c) => c._id);
      const [history, identities, conversations, audit] = await Promise.all([
        this.c.history.deleteMany({ $or: [{ customerId: { $in: customerIds } }, { conversationId: { $in: conversationIds } }] }),
        this.c.identities.deleteMany({ customerId: { $in: customerIds } }),
        this.c.conversations.deleteMany({ _id: { $in: conversationIds } }),
        this.c.audit.updateMany({ customerId: { $in: customerIds } }, { $set: { customerId: pseudonym, reason: '' } }),
        this.c.pending.deleteMany({ _id: { $in: conversationIds } }),
        this.access.deleteMany({ _id: { $in: conversationIds } }),
        this.c.merges.deleteMany({ _id: { $in: held.merges.map((m) => m._id) } }),
        this.c.accounts.updateMany({ memberCustomerIds: { $in: customerIds } }, { $pull: { memberCustomerIds: { $in: customerIds } } }),
        this.dropMandates(held, customerIds),
      ]);
      // The customer documents last: an erasure cut short can be asked again and finds them.
      const customers = await this.c.customers.deleteMany({ _id: { $in: customerIds } });
      this.writes.changed(customerIds);
      return {
        customers: customers.deletedCount,
        identities: identities.deletedCount,
        conversations: conversations.deletedCount,
        historyEntries: history.deletedCount,
        auditEntries: audit.modifiedCount,
        mandates: held.mandates.length,
      };
    });
  }
}

/**
 * The identities an erasure names on the topic (hashed): every one the customer held. Not their
 * claims: a claimed address may be someone else's, whose contacts a replay must keep (the claims
 * themselves go with the customer document).
 */
export function heldIdentities(held: CustomerHoldings): NormalisedIdentity[] {
  const stored = held.identities.map((i) => ({ kind: i.kind, value: i.value, namespace: i.namespace }));
  const onRecords = [held.customer, ...held.mergedCustomers].flatMap((c) => c.identities);
  return [...stored, ...onRecords] as NormalisedIdentity[];
}
