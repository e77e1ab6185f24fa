// Intermediaries and their mandates, stored by customer-record. Each intermediary identity is a
// row keyed by its value (`intermediary_identities`, claimed by a unique insert like a customer
// identity), so recognising a contact's sender is one or two reads by _id. The mandates in force
// are copied onto the customer document, so the customer card stays one read.
import type { Collection, Db } from 'mongodb';
import { FailedPreconditionError, NotFoundError } from '#libs/service/grpc-errors';
import type { MandateAuthority, IntermediaryKind } from '#libs/proto';
import { isDuplicateKey } from '../errors';
import type { NormalisedIdentity } from '#libs/contact';
import { inForce, intermediaryKey, senderKeys, type IntermediaryDoc, type MandateDoc } from '../mandates';
import type { CustomerDirectory } from './customers';
import type { Actor, Collections, RepresentativeDoc } from './records';
import type { WriteQueue } from './write-queue';

interface IntermediaryIdentityDoc {
  _id: string;
  intermediaryId: string;
}

export class Intermediaries {
  readonly intermediaries: Collection<IntermediaryDoc>;
  private readonly keys: Collection<IntermediaryIdentityDoc>;

  constructor(
    db: Db,
    private readonly c: Collections,
    private readonly writes: WriteQueue,
    private readonly directory: CustomerDirectory,
  ) {
    this.intermediaries = db.collection('intermediaries');
    this.keys = db.collection('intermediary_identities');
  }

  /** Registers or renames an intermediary and sets its identities; an identity held by another intermediary is refused. */
  async upsert(doc: { _id: string; name: string; kind: IntermediaryKind; identities: NormalisedIdentity[] }): Promise<IntermediaryDoc> {
    return this.writes.exclusive(async () => {
      const existing = await this.intermediaries.findOne({ _id: doc._id });
      for (const n of doc.identities) {
        const key = intermediaryKey(n);
        const holder = await this.keys.findOne({ _id: key });
        if (holder && holder.intermediaryId !== doc._id)
          throw new FailedPreconditionError(`an identity given belongs to intermediary ${holder.intermediaryId}`);
      }
      for (const n of doc.identities) await this.claimKey(intermediaryKey(n), doc._id);
      const kept = new Set(doc.identities.map(intermediaryKey));
      for (const old of existing?.identities ?? [])
        if (!kept.has(intermediaryKey(old))) await this.keys.deleteOne({ _id: intermediaryKey(old), intermediaryId: doc._id });
      // insertOne for a new one: the store's $setOnInsert drops empty arrays.
      if (!existing) await this.intermediaries.insertOne({ ...doc, mandates: [] });
      else await this.intermediaries.updateOne({ _id: doc._id }, { $set: { name: doc.name, kind: doc.kind, identities: doc.identities } });
      const saved = (await this.intermediaries.findOne({ _id: doc._id }))!;
      await this.copyToCustomers(
        saved,
        saved.mandates.map((m) => m.customerId),
      );
      return saved;
    });
  }

  private async claimKey(key: string, intermediaryId: string): Promise<void> {
    try {
      await this.keys.insertOne({ _id: key, intermediaryId });
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      const holder = await this.keys.findOne({ _id: key });
      if (holder?.intermediaryId !== intermediaryId)
        throw new FailedPreconditionError(`an identity given belongs to intermediary ${holder?.intermediaryId ?? 'another'}`);
    }
  }

  /** Gives (or replaces) the intermediary's mandate for a customer; both must exist. */
  async grant(
    intermediaryId: string,
    customerId: string,
    mandate: { authority: MandateAuthority; expiresAt: Date | null },
    actor: Actor,
    now: Date,
  ): Promise<IntermediaryDoc> {
    return this.writes.exclusive(async () => {
      const intermediary = await this.get(intermediaryId);
      const customer = await this.directory.getCustomer(customerId);
      if (customer.mergedInto) throw new FailedPreconditionError(`customer ${customerId} was merged into ${customer.mergedInto}`);
      const given: MandateDoc = { customerId, ...mandate, grantedBy: actor.id, grantedAt: now, revokedAt: null };
      const mandates = [...intermediary.mandates.filter((m) => m.customerId !== customerId), given];
      await this.intermediaries.updateOne({ _id: intermediaryId }, { $set: { mandates } });
      const saved = { ...intermediary, mandates };
      await this.copyToCustomers(saved, [customerId]);
      return saved;
    });
  }

  /** Ends a mandate; it stays recorded, so the contacts made under it still read as they were. */
  async revoke(intermediaryId: string, customerId: string, now: Date): Promise<IntermediaryDoc> {
    return this.writes.exclusive(async () => {
      const intermediary = await this.get(intermediaryId);
      const current = intermediary.mandates.find((m) => m.customerId === customerId && !m.revokedAt);
      if (!current) throw new NotFoundError(`intermediary ${intermediaryId} has no mandate in force for customer ${customerId}`);
      const mandates = intermediary.mandates.map((m) => (m === current ? { ...m, revokedAt: now } : m));
      await this.intermediaries.updateOne({ _id: intermediaryId }, { $set: { mandates } });
      const saved = { ...intermediary, mandates };
      await this.copyToCustomers(saved, [customerId]);
      return saved;
    });
  }

  async get(intermediaryId: string): Promise<IntermediaryDoc> {
    const found = await this.intermediaries.findOne({ _id: intermediaryId });
    if (!found) throw new NotFoundError(`no intermediary ${intermediaryId}`);
    return found;
  }

  /** The intermediary a contact's sender is, by its address first, then its domain; null for anyone else. */
  async forSender(sender: NormalisedIdentity): Promise<IntermediaryDoc | null> {
    for (const key of senderKeys(sender)) {
      const row = await this.keys.findOne({ _id: key });
      if (row) return this.intermediaries.findOne({ _id: row.intermediaryId });
    }
    return null;
  }

  /** The customer's copy of who may speak for them (the card reads it with the customer). */
  private async copyToCustomers(intermediary: IntermediaryDoc, customerIds: string[]): Promise<void> {
    const now = new Date();
    for (const customerId of customerIds) {
      const customer = await this.c.customers.findOne({ _id: customerId });
      if (!customer) continue;
      const others = (customer.representatives ?? []).filter((r) => r.intermediaryId !== intermediary._id);
      const m = intermediary.mandates.find((x) => x.customerId === customerId);
      const mine: RepresentativeDoc[] =
        m && inForce(m, now)
          ? [{ intermediaryId: intermediary._id, name: intermediary.name, kind: intermediary.kind, authority: m.authority, expiresAt: m.expiresAt }]
          : [];
      await this.c.customers.updateOne({ _id: customerId }, { $set: { representatives: [...others, ...mine] } });
    }
    this.writes.changed(customerIds);
  }
}
