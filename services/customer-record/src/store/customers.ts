// Who the customer is: one customer per identity, found or created under concurrent calls, and
// followed through merges to the record that holds the data now. No multi-document
// transactions: an identity is claimed by a single-document insert guarded by a unique index.
import { randomUUID } from 'node:crypto';
import type { Collection } from 'mongodb';
import { NotFoundError } from '#libs/service/grpc-errors';
import { withClaims } from '../claims';
import { isDuplicateKey } from '../errors';
import { identityKey, type NormalisedIdentity } from '#libs/contact';
import { newCustomer, type Collections, type CustomerDoc, type IdentityDoc } from './records';
import type { WriteQueue } from './write-queue';

/** The identity row is the claim: whoever inserts it first owns the identity (a duplicate key says someone else did). */
export async function claimIdentity(identities: Collection<IdentityDoc>, identity: NormalisedIdentity, customerId: string): Promise<void> {
  await identities.insertOne({
    _id: identityKey(identity),
    kind: identity.kind,
    value: identity.value,
    namespace: identity.namespace,
    customerId,
    linkedAt: new Date(),
  });
}

export class CustomerDirectory {
  constructor(
    private readonly c: Collections,
    private readonly writes: WriteQueue,
  ) {}

  /** Finds or creates exactly one customer for an identity, also under concurrent calls. */
  async resolve(identity: NormalisedIdentity, displayName: string): Promise<{ customer: CustomerDoc; created: boolean }> {
    return this.writes.exclusive(async () => {
      for (let attempt = 0; attempt < 8; attempt++) {
        const found = await this.c.identities.findOne({ _id: identityKey(identity) });
        if (found) return { customer: await this.liveCustomer(await this.ensureCustomer(found.customerId, displayName, identity)), created: false };
        const customerId = randomUUID();
        try {
          await claimIdentity(this.c.identities, identity, customerId);
        } catch (err) {
          if (isDuplicateKey(err)) continue;
          throw err;
        }
        return { customer: await this.insertCustomer(customerId, displayName, identity), created: true };
      }
      throw new Error('identity resolution did not settle after 8 attempts');
    });
  }

  /** Creates the customer document if a claim exists without it (a crash between the two writes). */
  private async ensureCustomer(customerId: string, displayName: string, identity: NormalisedIdentity): Promise<CustomerDoc> {
    const existing = await this.c.customers.findOne({ _id: customerId });
    if (existing) {
      if (!existing.displayName && displayName)
        await this.c.customers.updateOne({ _id: customerId, displayName: '' }, { $set: { displayName: displayName.slice(0, 200) } });
      return existing.displayName || !displayName ? existing : { ...existing, displayName };
    }
    return this.insertCustomer(customerId, displayName, identity);
  }

  /** The customer of an identity just claimed (or whose document a crash kept from being written). */
  private async insertCustomer(customerId: string, displayName: string, identity: NormalisedIdentity): Promise<CustomerDoc> {
    const doc = newCustomer(customerId, displayName.slice(0, 200), [identity]);
    // insertOne rather than an upsert: FerretDB's $setOnInsert drops empty arrays and nulls.
    try {
      await this.c.customers.insertOne(doc);
      return doc;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return (await this.c.customers.findOne({ _id: customerId })) ?? doc;
    }
  }

  /** Follows merges to the customer that holds the data now. */
  async liveCustomer(c: CustomerDoc): Promise<CustomerDoc> {
    let current = c;
    for (let hops = 0; current.mergedInto && hops < 10; hops++) {
      const next = await this.c.customers.findOne({ _id: current.mergedInto });
      if (!next) break;
      current = next;
    }
    return current;
  }

  /** False for an identity's customer whose document a crash kept from being written (see resolve). */
  async hasCustomer(customerId: string): Promise<boolean> {
    return (await this.c.customers.countDocuments({ _id: customerId }, { limit: 1 })) > 0;
  }

  async getCustomer(customerId: string): Promise<CustomerDoc> {
    const c = await this.c.customers.findOne({ _id: customerId });
    if (!c) throw new NotFoundError(`no customer ${customerId}`);
    return c;
  }

  async findCustomerId(identity: NormalisedIdentity): Promise<string | null> {
    const found = await this.c.identities.findOne({ _id: identityKey(identity) });
    return found?.customerId ?? null;
  }

  async customerIdFor(identity: NormalisedIdentity): Promise<string> {
    const found = await this.c.identities.findOne({ _id: identityKey(identity) });
    if (!found) throw new NotFoundError('no customer has this identity');
    return found.customerId;
  }

  /** Those of these customers that are live (not merged into another), in the order given: one read by `_id` each. */
  async liveAmong(customerIds: readonly string[]): Promise<CustomerDoc[]> {
    const found = await Promise.all(customerIds.map((_id) => this.c.customers.findOne({ _id })));
    return found.filter((c): c is CustomerDoc => c !== null && !c.mergedInto);
  }

  /** Keeps what the customer claimed to be, for agents to read; never an identity. */
  async addClaims(customerId: string, claims: NormalisedIdentity[]): Promise<void> {
    await this.writes.exclusive(async () => {
      const customer = await this.getCustomer(customerId);
      await this.c.customers.updateOne({ _id: customerId }, { $set: { claims: withClaims(customer.claims ?? [], claims) } });
      this.writes.changed([customerId]);
    });
  }
}
