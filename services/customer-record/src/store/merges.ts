// Joining two records of one person: linking an identity that another customer holds, a
// supervisor's merge, and its undoing. A merge is recorded before it is applied, so an
// interrupted one can be seen and undone.
import { randomUUID } from 'node:crypto';
import { FailedPreconditionError, NotFoundError } from '#libs/service/grpc-errors';
import { isDuplicateKey } from '../errors';
import { evaluateRegular, type RegularRule } from '../flags';
import { identityKey, type NormalisedIdentity } from '#libs/contact';
import { combineOverrides, planMerge } from '../merge';
import { claimIdentity, type CustomerDirectory } from './customers';
import { MAX_STARTS, newestFirst, type Actor, type Collections, type CustomerDoc, type MergeDoc } from './records';
import type { WriteQueue } from './write-queue';

export class CustomerMerges {
  constructor(
    private readonly c: Collections,
    private readonly writes: WriteQueue,
    private readonly directory: CustomerDirectory,
    private readonly rule: RegularRule,
  ) {}

  /** Joins an identity to a customer; if another customer holds it, that customer is merged in. */
  async link(customerId: string, identity: NormalisedIdentity, actor: Actor): Promise<{ customer: CustomerDoc; mergedCustomerId: string; mergeId: string }> {
    return this.writes.exclusive(async () => {
      const customer = await this.directory.getCustomer(customerId);
      if (customer.mergedInto) throw new FailedPreconditionError(`customer ${customerId} was merged into ${customer.mergedInto}; link to that one`);
      try {
        await claimIdentity(this.c.identities, identity, customerId);
        await this.c.customers.updateOne({ _id: customerId }, { $addToSet: { identities: identity } });
        this.writes.changed([customerId]);
        return { customer: await this.directory.getCustomer(customerId), mergedCustomerId: '', mergeId: '' };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const holder = await this.c.identities.findOne({ _id: identityKey(identity) });
      if (!holder || holder.customerId === customerId) return { customer: await this.directory.getCustomer(customerId), mergedCustomerId: '', mergeId: '' };
      const { mergeId } = await this.mergeUnlocked(customerId, holder.customerId, 'identity linked to both customers', actor, 'identity-link');
      return { customer: await this.directory.getCustomer(customerId), mergedCustomerId: holder.customerId, mergeId };
    });
  }

  async merge(targetId: string, sourceId: string, reason: string, actor: Actor): Promise<{ mergeId: string; target: CustomerDoc }> {
    return this.writes.exclusive(() => this.mergeUnlocked(targetId, sourceId, reason, actor, 'supervisor'));
  }

  private async mergeUnlocked(
    targetId: string,
    sourceId: string,
    reason: string,
    actor: Actor,
    cause: MergeDoc['cause'],
  ): Promise<{ mergeId: string; target: CustomerDoc }> {
    const [target, source] = await Promise.all([this.directory.getCustomer(targetId), this.directory.getCustomer(sourceId)]);
    const [identityRows, conversationRows, historyConversations] = await Promise.all([
      this.c.identities.find({ customerId: sourceId }, { projection: { _id: 1 } }).toArray(),
      this.c.conversations.find({ customerId: sourceId }, { projection: { _id: 1, startedAt: 1 } }).toArray(),
      this.c.history.distinct('conversationId', { customerId: sourceId }),
    ]);
    const plan = planMerge(
      target,
      source,
      identityRows.map((r) => r._id),
      conversationRows,
    );
    const conversationIds = [...new Set([...plan.conversationIds, ...(historyConversations as string[])])].sort();
    const mergeId = randomUUID();
    // Recorded first: an interrupted merge can be seen and undone.
    await this.c.merges.insertOne({
      _id: mergeId,
      targetId,
      sourceId,
      reason: reason.slice(0, 500),
      by: actor.id,
      at: new Date(),
      identityKeys: plan.identityKeys,
      conversationIds,
      sourceFlags: plan.sourceFlags,
      state: 'applying',
      cause,
    });
    await this.c.identities.updateMany({ customerId: sourceId }, { $set: { customerId: targetId } });
    await this.c.conversations.updateMany({ customerId: sourceId }, { $set: { customerId: targetId } });
    await this.c.history.updateMany({ customerId: sourceId }, { $set: { customerId: targetId } });
    await this.c.customers.updateOne(
      { _id: targetId },
      { $set: { regularOverride: combineOverrides(target.regularOverride, source.regularOverride), accountId: target.accountId ?? source.accountId } },
    );
    await this.c.customers.updateOne(
      { _id: sourceId },
      { $set: { mergedInto: targetId, identities: [], conversationStarts: [], recentConversations: [], regularRule: null } },
    );
    await this.refreshDerived(targetId);
    await this.c.merges.updateOne({ _id: mergeId }, { $set: { state: 'applied' } });
    this.writes.changed('all');
    return { mergeId, target: await this.directory.getCustomer(targetId) };
  }

  async unmerge(mergeId: string, actor: Actor): Promise<{ target: CustomerDoc; restored: CustomerDoc }> {
    return this.writes.exclusive(async () => {
      const m = await this.c.merges.findOne({ _id: mergeId });
      if (!m) throw new NotFoundError(`no merge ${mergeId}`);
      if (m.state === 'undone') throw new FailedPreconditionError(`merge ${mergeId} was already undone`);
      const { targetId, sourceId } = m;
      await this.c.identities.updateMany({ _id: { $in: m.identityKeys }, customerId: targetId }, { $set: { customerId: sourceId } });
      if (m.conversationIds.length) {
        await this.c.conversations.updateMany({ _id: { $in: m.conversationIds }, customerId: targetId }, { $set: { customerId: sourceId } });
        await this.c.history.updateMany({ conversationId: { $in: m.conversationIds }, customerId: targetId }, { $set: { customerId: sourceId } });
      }
      await this.c.customers.updateOne(
        { _id: sourceId },
        { $set: { mergedInto: null, regularOverride: m.sourceFlags.regularOverride, regularRule: m.sourceFlags.regularRule } },
      );
      await this.refreshDerived(sourceId);
      await this.refreshDerived(targetId);
      await this.c.merges.updateOne({ _id: mergeId }, { $set: { state: 'undone', undoneBy: actor.id, undoneAt: new Date() } });
      this.writes.changed('all');
      return { target: await this.directory.getCustomer(targetId), restored: await this.directory.getCustomer(sourceId) };
    });
  }

  /** Rebuilds the denormalised parts of a customer (identities, conversation starts, rule flag) from the collections. */
  private async refreshDerived(customerId: string): Promise<void> {
    const [ids, convs] = await Promise.all([
      this.c.identities.find({ customerId }).toArray(),
      this.c.conversations.find({ customerId }).sort({ startedAt: -1 }).limit(MAX_STARTS).toArray(),
    ]);
    const starts = convs.map((c) => c.startedAt);
    const set: Partial<CustomerDoc> = {
      identities: ids.map((i) => ({ kind: i.kind, value: i.value, namespace: i.namespace })),
      conversationStarts: starts,
      recentConversations: newestFirst(convs),
    };
    if (starts.length) set.regularRule = evaluateRegular(starts, starts[0]!, this.rule);
    await this.c.customers.updateOne({ _id: customerId }, { $set: set });
  }
}
