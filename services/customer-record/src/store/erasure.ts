// A data-protection request against the store: everything held about one customer, gathered for
// an export, and the same deleted for an erasure. A customer is the live record and every record
// merged into it, with their identities, conversations, history and waiting entries, the
// conversations' access records, the mandates intermediaries hold for them and the audit of reads of them. These reads filter on fields
// other than _id (a scan on FerretDB): a rare officer's request, not a hot path.
import type { Db, FindCursor } from 'mongodb';
import { keptOf, passOver } from '#libs/store';
import { NotFoundError } from '#libs/service';
import type { HistoryRecord } from '../history';
import type { NormalisedIdentity } from '#libs/contact';
import type { IntermediaryDoc, MandateDoc } from '../mandates';
import type { AuditDoc, Collections, ConversationDoc, CustomerDoc, IdentityDoc, MergeDoc } from './records';
import type { WriteQueue } from './write-queue';

/** Who a data-protection request is about: the live record and every record merged into it. */
interface Holder {
  customer: CustomerDoc;
  /** Records merged into this one (pointers now, with what they still hold). */
  mergedCustomers: CustomerDoc[];
}

/** What an erasure deletes, and what it names on the topic. */
export interface CustomerHoldings extends Holder {
  identities: IdentityDoc[];
  /** The customer's conversations. */
  conversationIds: string[];
  /** The conversations the customer's history entries name (some may have no document). */
  historyConversationIds: string[];
  merges: MergeDoc[];
  /** Who may act for the customer: each intermediary's mandates for them, revoked ones too. */
  mandates: HeldMandate[];
}

type HeldMandate = { intermediaryId: string; intermediaryName: string; mandate: MandateDoc };

/**
 * Everything the store holds about one customer, for an export, in the document's order: the
 * customer's conversations, history and audit of reads (who read this customer's data, when and
 * why) are cursors, oldest first, read while the export is written, so a customer of any size
 * is exported without being held whole.
 */
export interface CustomerExportParts extends Holder {
  identities: IdentityDoc[];
  conversations: FindCursor<ConversationDoc>;
  history: FindCursor<HistoryRecord>;
  merges: MergeDoc[];
  mandates: HeldMandate[];
  audit: FindCursor<AuditDoc>;
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

  /** What an erasure deletes; NotFoundError for an unknown id or a record merged into another. */
  async gather(customerId: string): Promise<CustomerHoldings> {
    const holder = await this.holder(customerId);
    const ids = heldCustomerIds(holder);
    const [identities, conversations, history, merges, mandates] = await Promise.all([
      this.c.identities.find({ customerId: { $in: ids } }).toArray(),
      this.c.conversations.find({ customerId: { $in: ids } }, { projection: { _id: 1 } }).toArray(),
      keptOf(this.c.history.find({ customerId: { $in: ids } }, { projection: { _id: 0, conversationId: 1 } }), (h) => !!h.conversationId),
      this.merges(ids),
      this.mandates(ids),
    ]);
    const historyConversationIds = [...new Set(history.map((h) => h.conversationId))];
    return { ...holder, identities, conversationIds: conversations.map((c) => c._id), historyConversationIds, merges, mandates };
  }

  /** What an export holds, its long parts as cursors; NotFoundError for an unknown id or a record merged into another. */
  async exportParts(customerId: string): Promise<CustomerExportParts> {
    const holder = await this.holder(customerId);
    const ids = heldCustomerIds(holder);
    const [identities, merges, mandates] = await Promise.all([
      this.c.identities.find({ customerId: { $in: ids } }).toArray(),
      this.merges(ids),
      this.mandates(ids),
    ]);
    return {
      ...holder,
      identities,
      conversations: passOver(this.c.conversations.find({ customerId: { $in: ids } }).sort({ startedAt: 1, _id: 1 })),
      history: passOver(this.c.history.find({ customerId: { $in: ids } }).sort({ occurredAt: 1, _id: 1 })),
      merges,
      mandates,
      audit: passOver(this.c.audit.find({ customerId: { $in: ids } }).sort({ at: 1, _id: 1 })),
    };
  }

  private async holder(customerId: string): Promise<Holder> {
    const customer = await this.c.customers.findOne({ _id: customerId });
    if (!customer) throw new NotFoundError(`no customer ${customerId}`);
    if (customer.mergedInto) throw new NotFoundError(`customer ${customerId} was merged into ${customer.mergedInto}; ask for that customer`);
    const mergedCustomers = await this.c.customers.find({ mergedInto: customerId }).toArray();
    return { customer, mergedCustomers };
  }

  private merges(ids: string[]): Promise<MergeDoc[]> {
    return this.c.merges.find({ $or: [{ targetId: { $in: ids } }, { sourceId: { $in: ids } }] }).toArray();
  }

  private async mandates(ids: string[]): Promise<HeldMandate[]> {
    const intermediaries = await this.intermediaries.find({ 'mandates.customerId': { $in: ids } }).toArray();
    return intermediaries.flatMap((i) =>
      i.mandates.filter((m) => ids.includes(m.customerId)).map((mandate) => ({ intermediaryId: i._id, intermediaryName: i.name, mandate })),
    );
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
      const customerIds = heldCustomerIds(held);
      const { conversationIds } = held;
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
export function heldIdentities(held: Holder & Pick<CustomerHoldings, 'identities'>): NormalisedIdentity[] {
  const stored = held.identities.map((i) => ({ kind: i.kind, value: i.value, namespace: i.namespace }));
  const onRecords = [held.customer, ...held.mergedCustomers].flatMap((c) => c.identities);
  return [...stored, ...onRecords] as NormalisedIdentity[];
}

/** The live customer and every record merged into it. */
export function heldCustomerIds(holder: Holder): string[] {
  return [holder.customer._id, ...holder.mergedCustomers.map((m) => m._id)];
}
