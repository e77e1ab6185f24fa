// MongoDB adapter: the only writer of customer data. No multi-document transactions: identity
// claims are single-document inserts guarded by a unique index, everything else is an
// idempotent upsert or a set-based update, and merges are recorded before they are applied.
import { randomUUID } from 'node:crypto';
import type { Collection, Db, Filter } from 'mongodb';
import type { CustomerFlagName } from '#libs/contact';
import { Channel, type Account, type ConversationSummary, type Customer, type HistoryEntry, type AuditEntry } from '#libs/proto';
import { effectiveFlags, evaluateRegular, overrideField, supervisorFlag, type RegularRule, type StoredFlag } from './flags';
import { openClaims, withClaims } from './claims';
import { identityKey, toIdentity, type NormalisedIdentity } from './identity';
import { changeFromEntry, type HistoryRecord, type ConversationChange } from './history';
import { combineOverrides, planMerge } from './merge';
import { FailedPreconditionError, InvalidArgumentError, NotFoundError } from '#libs/service/grpc-errors';
import { isDuplicateKey } from './errors';

export interface CustomerDoc {
  _id: string;
  displayName: string;
  createdAt: Date;
  accountId: string | null;
  mergedInto: string | null;
  /** Copy of this customer's rows in `identities`, so one read gives the whole profile. */
  identities: NormalisedIdentity[];
  /** What the customer said about themselves and nobody verified; absent on older records. */
  claims?: NormalisedIdentity[];
  /** Start times of recent conversations (newest 500), for the regular-customer rule. */
  conversationStarts: Date[];
  /** The newest conversations, copied here so that a customer's context is one read by _id. */
  recentConversations: ConversationDoc[];
  regularRule: StoredFlag | null;
  regularOverride: StoredFlag | null;
  vipOverride: StoredFlag | null;
  institutionalOverride: StoredFlag | null;
}

export interface IdentityDoc {
  _id: string;
  kind: number;
  value: string;
  namespace: string;
  customerId: string;
  linkedAt: Date;
}

export interface ConversationDoc {
  _id: string;
  customerId: string;
  channel: Channel;
  subject: string;
  startedAt: Date;
  lastActivityAt: Date;
  status: string;
  lastAgentId: string;
  messageCount: number;
}

export interface AccountDoc {
  _id: string;
  name: string;
  managerAgentId: string;
  vip: boolean;
  institutional: boolean;
  memberCustomerIds: string[];
}

export interface AuditDoc {
  _id: string;
  actorId: string;
  actorRole: string;
  action: string;
  customerId: string;
  conversationId: string;
  /** Why a supervisor or ops read the customer (or set a flag, merged); empty for agents and services. */
  reason?: string;
  at: Date;
}

export interface MergeDoc {
  _id: string;
  targetId: string;
  sourceId: string;
  reason: string;
  by: string;
  at: Date;
  identityKeys: string[];
  conversationIds: string[];
  sourceFlags: { regularRule: StoredFlag | null; regularOverride: StoredFlag | null };
  state: 'applying' | 'applied' | 'undone';
  undoneBy?: string;
  undoneAt?: Date;
}

export interface Actor {
  id: string;
  role: string;
}

const MAX_STARTS = 500;

export class CustomerStore {
  readonly customers: Collection<CustomerDoc>;
  readonly identities: Collection<IdentityDoc>;
  readonly conversations: Collection<ConversationDoc>;
  readonly history: Collection<HistoryRecord>;
  readonly accounts: Collection<AccountDoc>;
  readonly audit: Collection<AuditDoc>;
  readonly merges: Collection<MergeDoc>;
  /** Entries waiting for their conversation's contact, by conversation id. */
  readonly pending: Collection<{ _id: string; entryIds: string[] }>;
  /** Called with every customer id whose data changed, so caches can drop it. */
  onChange: (customerIds: string[] | 'all') => void = () => {};

  /**
   * Every write of this process goes through here, one at a time. FerretDB (1.24, SQLite)
   * applies concurrent updates of one document as unguarded read-modify-writes, so two
   * parallel $push or $inc on the same customer lose one; serialising the writes keeps them.
   * Identity claims stay safe across processes through the unique index.
   */
  private queue: Promise<unknown> = Promise.resolve();
  private exclusive<T>(work: () => Promise<T>): Promise<T> {
    const run = this.queue.then(work, work);
    this.queue = run.catch(() => undefined);
    return run;
  }

  constructor(
    readonly db: Db,
    readonly rule: RegularRule,
  ) {
    this.customers = db.collection('customers');
    this.identities = db.collection('identities');
    this.conversations = db.collection('conversations');
    this.history = db.collection('history');
    this.accounts = db.collection('accounts');
    this.audit = db.collection('audit');
    this.merges = db.collection('merges');
    this.pending = db.collection('pending_entries');
  }

  async ensureIndexes(): Promise<void> {
    await this.identities.createIndex({ kind: 1, value: 1 }, { unique: true, name: 'identity_unique' });
    await this.identities.createIndex({ customerId: 1 }, { name: 'identity_by_customer' });
    await this.history.createIndex({ customerId: 1, occurredAt: -1 }, { name: 'history_by_customer' });
    await this.history.createIndex({ conversationId: 1 }, { name: 'history_by_conversation' });
    await this.conversations.createIndex({ customerId: 1, startedAt: -1 }, { name: 'conversations_by_customer' });
    await this.audit.createIndex({ customerId: 1, at: -1 }, { name: 'audit_by_customer' });
    await this.audit.createIndex({ actorId: 1, at: -1 }, { name: 'audit_by_actor' });
    await this.customers.createIndex({ accountId: 1 }, { name: 'customers_by_account' });
  }

  // ---- identity resolution ----

  /** Finds or creates exactly one customer for an identity, also under concurrent calls. */
  async resolve(identity: NormalisedIdentity, displayName: string): Promise<{ customer: CustomerDoc; created: boolean }> {
    return this.exclusive(async () => {
      for (let attempt = 0; attempt < 8; attempt++) {
        const found = await this.identities.findOne({ _id: identityKey(identity) });
        if (found) return { customer: await this.liveCustomer(await this.ensureCustomer(found.customerId, displayName, identity)), created: false };
        const customerId = randomUUID();
        try {
          // The identity row is the claim: whoever inserts it first owns the identity.
          await this.identities.insertOne({
            _id: identityKey(identity),
            kind: identity.kind,
            value: identity.value,
            namespace: identity.namespace,
            customerId,
            linkedAt: new Date(),
          });
        } catch (err) {
          if (isDuplicateKey(err)) continue;
          throw err;
        }
        return { customer: await this.ensureCustomer(customerId, displayName, identity), created: true };
      }
      throw new Error('identity resolution did not settle after 8 attempts');
    });
  }

  /** Creates the customer document if a claim exists without it (a crash between the two writes). */
  private async ensureCustomer(customerId: string, displayName: string, identity: NormalisedIdentity): Promise<CustomerDoc> {
    const existing = await this.customers.findOne({ _id: customerId });
    if (existing) {
      if (!existing.displayName && displayName)
        await this.customers.updateOne({ _id: customerId, displayName: '' }, { $set: { displayName: displayName.slice(0, 200) } });
      return existing.displayName || !displayName ? existing : { ...existing, displayName };
    }
    const doc: CustomerDoc = {
      _id: customerId,
      displayName: displayName.slice(0, 200),
      createdAt: new Date(),
      accountId: null,
      mergedInto: null,
      identities: [identity],
      conversationStarts: [],
      recentConversations: [],
      regularRule: null,
      regularOverride: null,
      vipOverride: null,
      institutionalOverride: null,
    };
    // insertOne rather than an upsert: FerretDB's $setOnInsert drops empty arrays and nulls.
    try {
      await this.customers.insertOne(doc);
      return doc;
    } catch (err) {
      if (!isDuplicateKey(err)) throw err;
      return (await this.customers.findOne({ _id: customerId })) ?? doc;
    }
  }

  /** Follows merges to the customer that holds the data now. */
  async liveCustomer(c: CustomerDoc): Promise<CustomerDoc> {
    let current = c;
    for (let hops = 0; current.mergedInto && hops < 10; hops++) {
      const next = await this.customers.findOne({ _id: current.mergedInto });
      if (!next) break;
      current = next;
    }
    return current;
  }

  /** False for an identity's customer whose document a crash kept from being written (see resolve). */
  async hasCustomer(customerId: string): Promise<boolean> {
    return (await this.customers.countDocuments({ _id: customerId }, { limit: 1 })) > 0;
  }

  async getCustomer(customerId: string): Promise<CustomerDoc> {
    const c = await this.customers.findOne({ _id: customerId });
    if (!c) throw new NotFoundError(`no customer ${customerId}`);
    return c;
  }

  async findCustomerId(identity: NormalisedIdentity): Promise<string | null> {
    const found = await this.identities.findOne({ _id: identityKey(identity) });
    return found?.customerId ?? null;
  }

  async customerIdFor(identity: NormalisedIdentity): Promise<string> {
    const found = await this.identities.findOne({ _id: identityKey(identity) });
    if (!found) throw new NotFoundError('no customer has this identity');
    return found.customerId;
  }

  /** Joins an identity to a customer; if another customer holds it, that customer is merged in. */
  async link(customerId: string, identity: NormalisedIdentity, actor: Actor): Promise<{ customer: CustomerDoc; mergedCustomerId: string; mergeId: string }> {
    return this.exclusive(async () => {
      const customer = await this.getCustomer(customerId);
      if (customer.mergedInto) throw new FailedPreconditionError(`customer ${customerId} was merged into ${customer.mergedInto}; link to that one`);
      try {
        await this.identities.insertOne({
          _id: identityKey(identity),
          kind: identity.kind,
          value: identity.value,
          namespace: identity.namespace,
          customerId,
          linkedAt: new Date(),
        });
        await this.customers.updateOne({ _id: customerId }, { $addToSet: { identities: identity } });
        this.onChange([customerId]);
        return { customer: await this.getCustomer(customerId), mergedCustomerId: '', mergeId: '' };
      } catch (err) {
        if (!isDuplicateKey(err)) throw err;
      }
      const holder = await this.identities.findOne({ _id: identityKey(identity) });
      if (!holder || holder.customerId === customerId) return { customer: await this.getCustomer(customerId), mergedCustomerId: '', mergeId: '' };
      const { mergeId } = await this.mergeUnlocked(customerId, holder.customerId, 'identity linked to both customers', actor);
      return { customer: await this.getCustomer(customerId), mergedCustomerId: holder.customerId, mergeId };
    });
  }

  /** Keeps what the customer claimed to be, for agents to read; never an identity. */
  async addClaims(customerId: string, claims: NormalisedIdentity[]): Promise<void> {
    await this.exclusive(async () => {
      const customer = await this.getCustomer(customerId);
      await this.customers.updateOne({ _id: customerId }, { $set: { claims: withClaims(customer.claims ?? [], claims) } });
      this.onChange([customerId]);
    });
  }

  // ---- merge ----

  async merge(targetId: string, sourceId: string, reason: string, actor: Actor): Promise<{ mergeId: string; target: CustomerDoc }> {
    return this.exclusive(() => this.mergeUnlocked(targetId, sourceId, reason, actor));
  }

  private async mergeUnlocked(targetId: string, sourceId: string, reason: string, actor: Actor): Promise<{ mergeId: string; target: CustomerDoc }> {
    const [target, source] = await Promise.all([this.getCustomer(targetId), this.getCustomer(sourceId)]);
    const [identityRows, conversationRows, historyConversations] = await Promise.all([
      this.identities.find({ customerId: sourceId }, { projection: { _id: 1 } }).toArray(),
      this.conversations.find({ customerId: sourceId }, { projection: { _id: 1, startedAt: 1 } }).toArray(),
      this.history.distinct('conversationId', { customerId: sourceId }),
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
    await this.merges.insertOne({
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
    });
    await this.identities.updateMany({ customerId: sourceId }, { $set: { customerId: targetId } });
    await this.conversations.updateMany({ customerId: sourceId }, { $set: { customerId: targetId } });
    await this.history.updateMany({ customerId: sourceId }, { $set: { customerId: targetId } });
    await this.customers.updateOne(
      { _id: targetId },
      { $set: { regularOverride: combineOverrides(target.regularOverride, source.regularOverride), accountId: target.accountId ?? source.accountId } },
    );
    await this.customers.updateOne(
      { _id: sourceId },
      { $set: { mergedInto: targetId, identities: [], conversationStarts: [], recentConversations: [], regularRule: null } },
    );
    await this.refreshDerived(targetId);
    await this.merges.updateOne({ _id: mergeId }, { $set: { state: 'applied' } });
    this.onChange('all');
    return { mergeId, target: await this.getCustomer(targetId) };
  }

  async unmerge(mergeId: string, actor: Actor): Promise<{ target: CustomerDoc; restored: CustomerDoc }> {
    return this.exclusive(async () => {
      const m = await this.merges.findOne({ _id: mergeId });
      if (!m) throw new NotFoundError(`no merge ${mergeId}`);
      if (m.state === 'undone') throw new FailedPreconditionError(`merge ${mergeId} was already undone`);
      const { targetId, sourceId } = m;
      await this.identities.updateMany({ _id: { $in: m.identityKeys }, customerId: targetId }, { $set: { customerId: sourceId } });
      if (m.conversationIds.length) {
        await this.conversations.updateMany({ _id: { $in: m.conversationIds }, customerId: targetId }, { $set: { customerId: sourceId } });
        await this.history.updateMany({ conversationId: { $in: m.conversationIds }, customerId: targetId }, { $set: { customerId: sourceId } });
      }
      await this.customers.updateOne(
        { _id: sourceId },
        { $set: { mergedInto: null, regularOverride: m.sourceFlags.regularOverride, regularRule: m.sourceFlags.regularRule } },
      );
      await this.refreshDerived(sourceId);
      await this.refreshDerived(targetId);
      await this.merges.updateOne({ _id: mergeId }, { $set: { state: 'undone', undoneBy: actor.id, undoneAt: new Date() } });
      this.onChange('all');
      return { target: await this.getCustomer(targetId), restored: await this.getCustomer(sourceId) };
    });
  }

  /** Rebuilds the denormalised parts of a customer (identities, conversation starts, rule flag) from the collections. */
  private async refreshDerived(customerId: string): Promise<void> {
    const [ids, convs] = await Promise.all([
      this.identities.find({ customerId }).toArray(),
      this.conversations.find({ customerId }).sort({ startedAt: -1 }).limit(MAX_STARTS).toArray(),
    ]);
    const starts = convs.map((c) => c.startedAt);
    const set: Partial<CustomerDoc> = {
      identities: ids.map((i) => ({ kind: i.kind, value: i.value, namespace: i.namespace })),
      conversationStarts: starts,
      recentConversations: newestFirst(convs),
    };
    if (starts.length) set.regularRule = evaluateRegular(starts, starts[0]!, this.rule);
    await this.customers.updateOne({ _id: customerId }, { $set: set });
  }

  // ---- projection ----

  /** Opens (or finds) the conversation; true when this call created it. */
  async openConversation(
    conversationId: string,
    customerId: string,
    channel: Channel,
    subject: string,
    startedAt: Date,
  ): Promise<{ conversation: ConversationDoc; created: boolean }> {
    return this.exclusive(async () => {
      const res = await this.conversations.updateOne(
        { _id: conversationId },
        {
          $setOnInsert: {
            customerId,
            channel,
            subject: subject.slice(0, 500),
            startedAt,
            status: 'open',
            lastAgentId: '',
            messageCount: 0,
            lastActivityAt: startedAt,
          },
        },
        { upsert: true },
      );
      const created = res.upsertedCount === 1;
      const conversation = (await this.conversations.findOne({ _id: conversationId }))!;
      if (created) {
        const c = await this.customers.findOne({ _id: conversation.customerId });
        if (c) {
          const starts = [...(c.conversationStarts ?? []), startedAt].slice(-MAX_STARTS);
          await this.customers.updateOne(
            { _id: c._id },
            {
              $set: {
                conversationStarts: starts,
                recentConversations: newestFirst([conversation, ...(c.recentConversations ?? [])]),
                regularRule: evaluateRegular(starts, latest(starts, startedAt), this.rule),
              },
            },
          );
        }
        await this.attachWaitingEntries(conversation);
        this.onChange([conversation.customerId]);
      }
      return { conversation, created };
    });
  }

  /** Entries that arrived before the contact (the other topic) join the customer now, with their effect on the conversation. */
  private async attachWaitingEntries(conversation: ConversationDoc): Promise<void> {
    const waiting = await this.pending.findOne({ _id: conversation._id });
    if (!waiting) return;
    for (const id of waiting.entryIds) {
      const entry = await this.history.findOne({ _id: id });
      if (!entry || entry.customerId) continue;
      await this.history.updateOne({ _id: id }, { $set: { customerId: conversation.customerId } });
      await this.applyToConversation(conversation._id, entry, changeFromEntry(entry));
    }
    await this.pending.deleteOne({ _id: conversation._id });
  }

  /** Updates the conversation summary and its copy on the customer document. */
  private async applyToConversation(conversationId: string, entry: HistoryRecord, change: ConversationChange): Promise<void> {
    const conv = await this.conversations.findOne({ _id: conversationId });
    if (!conv) return;
    const updated: ConversationDoc = {
      ...conv,
      status: change.status ?? conv.status,
      lastAgentId: change.agentId || conv.lastAgentId,
      lastActivityAt: entry.occurredAt > conv.lastActivityAt ? entry.occurredAt : conv.lastActivityAt,
      messageCount: conv.messageCount + (change.countsAsMessage ? 1 : 0),
    };
    const { _id, ...fields } = updated;
    await this.conversations.updateOne({ _id }, { $set: fields });
    // The customer document carries its recent conversations, so a context is one read.
    const c = await this.customers.findOne({ _id: conv.customerId }, { projection: { recentConversations: 1 } });
    if (c?.recentConversations?.some((r) => r._id === _id))
      await this.customers.updateOne(
        { _id: conv.customerId },
        { $set: { recentConversations: c.recentConversations.map((r) => (r._id === _id ? updated : r)) } },
      );
  }

  async findConversation(conversationId: string): Promise<ConversationDoc | null> {
    return this.conversations.findOne({ _id: conversationId });
  }

  /** Writes an entry once; applies its effect on the conversation only the first time. */
  async recordEntry(entry: HistoryRecord, change: ConversationChange): Promise<boolean> {
    return this.exclusive(async () => {
      const res = await this.history.updateOne({ _id: entry._id }, { $setOnInsert: entry }, { upsert: true });
      if (res.upsertedCount !== 1) return false;
      if (!entry.customerId) {
        await this.pending.updateOne({ _id: entry.conversationId }, { $addToSet: { entryIds: entry._id } }, { upsert: true });
        return true;
      }
      await this.applyToConversation(entry.conversationId, entry, change);
      this.onChange([entry.customerId]);
      return true;
    });
  }

  // ---- flags and accounts ----

  /** A supervisor's setting of a flag; `on: null` removes it, so the rule or the account decides again. */
  async setFlag(customerId: string, kind: CustomerFlagName, on: boolean | null, reason: string, actor: Actor): Promise<CustomerDoc> {
    return this.exclusive(async () => {
      const c = await this.getCustomer(customerId);
      if (c.mergedInto) throw new FailedPreconditionError(`customer ${customerId} was merged into ${c.mergedInto}`);
      const field = overrideField(kind);
      await this.customers.updateOne({ _id: customerId }, { $set: { [field]: on === null ? null : supervisorFlag(on, reason, actor.id, new Date()) } });
      this.onChange([customerId]);
      return this.getCustomer(customerId);
    });
  }

  async upsertAccount(a: AccountDoc): Promise<AccountDoc> {
    return this.exclusive(async () => {
      if (a.memberCustomerIds.length) {
        const found = await this.customers.find({ _id: { $in: a.memberCustomerIds } }, { projection: { _id: 1 } }).toArray();
        const missing = a.memberCustomerIds.filter((id) => !found.some((f) => f._id === id));
        if (missing.length) throw new NotFoundError(`no customer ${missing.slice(0, 5).join(', ')}`);
      }
      await this.accounts.updateOne(
        { _id: a._id },
        { $set: { name: a.name, managerAgentId: a.managerAgentId, vip: a.vip, institutional: a.institutional, memberCustomerIds: a.memberCustomerIds } },
        { upsert: true },
      );
      await this.customers.updateMany({ accountId: a._id, _id: { $nin: a.memberCustomerIds } }, { $set: { accountId: null } });
      if (a.memberCustomerIds.length) await this.customers.updateMany({ _id: { $in: a.memberCustomerIds } }, { $set: { accountId: a._id } });
      this.onChange('all');
      return (await this.accounts.findOne({ _id: a._id }))!;
    });
  }

  async findAccount(accountId: string | null): Promise<AccountDoc | null> {
    return accountId ? this.accounts.findOne({ _id: accountId }) : null;
  }

  // ---- reads ----

  async recentConversations(customerId: string, limit: number): Promise<ConversationDoc[]> {
    return this.conversations.find({ customerId }).sort({ startedAt: -1 }).limit(limit).toArray();
  }

  async historyPage(
    customerId: string,
    pageSize: number,
    pageToken: string,
    channel: Channel,
    conversationId: string,
  ): Promise<{ entries: HistoryRecord[]; nextPageToken: string }> {
    const filter: Filter<HistoryRecord> = { customerId };
    if (channel !== Channel.CHANNEL_UNSPECIFIED) filter.channel = channel;
    if (conversationId) filter.conversationId = conversationId;
    if (pageToken) {
      const cursor = decodeToken(pageToken);
      filter.$or = [{ occurredAt: { $lt: cursor.at } }, { occurredAt: cursor.at, _id: { $lt: cursor.id } }];
    }
    const rows = await this.history
      .find(filter)
      .sort({ occurredAt: -1, _id: -1 })
      .limit(pageSize + 1)
      .toArray();
    const entries = rows.slice(0, pageSize);
    const last = entries[entries.length - 1];
    return { entries, nextPageToken: rows.length > pageSize && last ? encodeToken(last.occurredAt, last._id) : '' };
  }

  async listAudit(customerId: string, actorId: string, pageSize: number, pageToken: string): Promise<{ entries: AuditDoc[]; nextPageToken: string }> {
    const filter: Filter<AuditDoc> = {};
    if (customerId) filter.customerId = customerId;
    if (actorId) filter.actorId = actorId;
    if (pageToken) {
      const cursor = decodeToken(pageToken);
      filter.$or = [{ at: { $lt: cursor.at } }, { at: cursor.at, _id: { $lt: cursor.id } }];
    }
    const rows = await this.audit
      .find(filter)
      .sort({ at: -1, _id: -1 })
      .limit(pageSize + 1)
      .toArray();
    const entries = rows.slice(0, pageSize);
    const last = entries[entries.length - 1];
    return { entries, nextPageToken: rows.length > pageSize && last ? encodeToken(last.at, last._id) : '' };
  }
}

export const MAX_RECENT = 20;

function newestFirst(convs: ConversationDoc[]): ConversationDoc[] {
  return [...convs].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime()).slice(0, MAX_RECENT);
}

function latest(starts: Date[], fallback: Date): Date {
  return starts.reduce((a, b) => (b.getTime() > a.getTime() ? b : a), fallback);
}

function encodeToken(at: Date, id: string): string {
  return Buffer.from(JSON.stringify([at.getTime(), id])).toString('base64url');
}

function decodeToken(token: string): { at: Date; id: string } {
  try {
    const [t, id] = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof t !== 'number' || typeof id !== 'string') throw new Error('shape');
    return { at: new Date(t), id };
  } catch {
    throw new InvalidArgumentError('page_token is not one this service issued');
  }
}

// ---- to the wire ----

export function toCustomer(c: CustomerDoc, account: AccountDoc | null): Customer {
  return {
    customerId: c._id,
    displayName: c.displayName,
    identities: c.identities.map(toIdentity),
    flags: effectiveFlags({
      regularRule: c.regularRule,
      regularOverride: c.regularOverride,
      vipOverride: c.vipOverride,
      institutionalOverride: c.institutionalOverride,
      account:
        account && account._id === c.accountId ? { accountId: account._id, name: account.name, vip: account.vip, institutional: account.institutional } : null,
    }),
    accountId: c.accountId ?? '',
    createdAt: c.createdAt,
    mergedInto: c.mergedInto ?? '',
    claimedIdentities: openClaims(c.claims ?? [], c.identities).map(toIdentity),
  };
}

export function toAccount(a: AccountDoc): Account {
  return {
    accountId: a._id,
    name: a.name,
    managerAgentId: a.managerAgentId,
    vip: a.vip,
    institutional: a.institutional,
    memberCustomerIds: a.memberCustomerIds,
  };
}

export function toSummary(c: ConversationDoc, withSubject: boolean): ConversationSummary {
  return {
    conversationId: c._id,
    channel: c.channel,
    subject: withSubject ? c.subject : '',
    startedAt: c.startedAt,
    lastActivityAt: c.lastActivityAt,
    status: c.status,
    lastAgentId: c.lastAgentId,
    messageCount: c.messageCount,
  };
}

export function toHistoryEntry(h: HistoryRecord, withContents: boolean): HistoryEntry {
  return {
    entryId: h._id,
    customerId: h.customerId,
    conversationId: h.conversationId,
    channel: h.channel,
    kind: h.kind,
    occurredAt: h.occurredAt,
    agentId: h.agentId,
    subject: withContents ? h.subject : '',
    text: withContents ? h.text : '',
    detail: h.detail,
    attachments: withContents ? (h.attachments ?? []) : [],
  };
}

export function toAuditEntry(a: AuditDoc): AuditEntry {
  return {
    auditId: a._id,
    actorId: a.actorId,
    actorRole: a.actorRole,
    action: a.action,
    customerId: a.customerId,
    conversationId: a.conversationId,
    reason: a.reason ?? '',
    at: a.at,
  };
}
