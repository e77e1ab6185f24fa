// The documents customer-record keeps, one collection each, and the indexes its reads need.
import type { Collection, Db } from 'mongodb';
import type { Channel, IntermediaryKind, MandateAuthority } from '#libs/proto';
import type { StoredFlag } from '../flags';
import type { HistoryRecord } from '../history';
import type { NormalisedIdentity } from '#libs/contact';

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
  /** Intermediaries with a mandate for this customer, copied here for the card; absent on older records. */
  representatives?: RepresentativeDoc[];
}

/** A customer as first written: nothing known yet but their name and identities. */
export function newCustomer(_id: string, displayName: string, identities: NormalisedIdentity[], createdAt = new Date()): CustomerDoc {
  return {
    _id,
    displayName,
    createdAt,
    accountId: null,
    mergedInto: null,
    identities,
    conversationStarts: [],
    recentConversations: [],
    regularRule: null,
    regularOverride: null,
    vipOverride: null,
    institutionalOverride: null,
  };
}

export interface RepresentativeDoc {
  intermediaryId: string;
  name: string;
  kind: IntermediaryKind;
  authority: MandateAuthority;
  expiresAt: Date | null;
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
  /** An erasure's outcome (erasure id, hashed key, counts); never the erased data. */
  detail?: string;
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
  /** Who joined them: a supervisor's merge, or linking an identity both held. */
  cause?: 'supervisor' | 'identity-link';
  /** When CustomerMerged for it was acknowledged on cc.customer.merges.v1. */
  announcedAt?: Date;
  undoneBy?: string;
  undoneAt?: Date;
}

/** Who made a change: a person or a service, by id. */
export interface Actor {
  id: string;
  role: string;
}

export interface Collections {
  customers: Collection<CustomerDoc>;
  identities: Collection<IdentityDoc>;
  conversations: Collection<ConversationDoc>;
  history: Collection<HistoryRecord>;
  accounts: Collection<AccountDoc>;
  audit: Collection<AuditDoc>;
  merges: Collection<MergeDoc>;
  /** Entries waiting for their conversation's contact, by conversation id. */
  pending: Collection<{ _id: string; entryIds: string[] }>;
}

export function openCollections(db: Db): Collections {
  return {
    customers: db.collection('customers'),
    identities: db.collection('identities'),
    conversations: db.collection('conversations'),
    history: db.collection('history'),
    accounts: db.collection('accounts'),
    audit: db.collection('audit'),
    merges: db.collection('merges'),
    pending: db.collection('pending_entries'),
  };
}

export async function ensureIndexes(c: Collections): Promise<void> {
  await c.identities.createIndex({ kind: 1, value: 1 }, { unique: true, name: 'identity_unique' });
  await c.identities.createIndex({ customerId: 1 }, { name: 'identity_by_customer' });
  await c.history.createIndex({ customerId: 1, occurredAt: -1 }, { name: 'history_by_customer' });
  await c.history.createIndex({ conversationId: 1 }, { name: 'history_by_conversation' });
  await c.conversations.createIndex({ customerId: 1, startedAt: -1 }, { name: 'conversations_by_customer' });
  await c.audit.createIndex({ customerId: 1, at: -1 }, { name: 'audit_by_customer' });
  await c.audit.createIndex({ actorId: 1, at: -1 }, { name: 'audit_by_actor' });
  await c.customers.createIndex({ accountId: 1 }, { name: 'customers_by_account' });
}

/** How many conversation starts the customer document keeps for the regular-customer rule. */
export const MAX_STARTS = 500;
/** How many conversations the customer document carries for its context. */
export const MAX_RECENT = 20;

/** The conversations a customer document carries: the newest MAX_RECENT. */
export function newestFirst(convs: ConversationDoc[]): ConversationDoc[] {
  return [...convs].sort((a, b) => b.startedAt.getTime() - a.startedAt.getTime()).slice(0, MAX_RECENT);
}
