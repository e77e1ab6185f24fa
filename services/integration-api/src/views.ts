// What the API answers, as openapi.json describes it, from the services' protobuf messages.
// Enums become the contact centre's words; no I/O.
import { channelName, customerFlagName, flagsOn } from '#libs/contact';
import { HistoryEntryKind, IdentityKind, Tier, type Customer, type HistoryEntry, type QueueStats } from '#libs/proto';

const IDENTITY_KINDS: Partial<Record<IdentityKind, string>> = {
  [IdentityKind.IDENTITY_KIND_EMAIL]: 'email',
  [IdentityKind.IDENTITY_KIND_PHONE]: 'phone',
  [IdentityKind.IDENTITY_KIND_CHAT_VISITOR]: 'chat-visitor',
  [IdentityKind.IDENTITY_KIND_OTHER]: 'other',
};

const HISTORY_KINDS: Partial<Record<HistoryEntryKind, string>> = {
  [HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_IN]: 'message-in',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_MESSAGE_OUT]: 'message-out',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_QUEUED]: 'queued',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_ASSIGNED]: 'assigned',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_ESCALATED]: 'escalated',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_TRANSFERRED]: 'transferred',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_RESOLVED]: 'resolved',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_ABANDONED]: 'abandoned',
  [HistoryEntryKind.HISTORY_ENTRY_KIND_SURVEY_ANSWERED]: 'survey-answered',
};

export function queueView(q: QueueStats) {
  return {
    queue: q.queue,
    channel: channelName(q.channel) ?? 'unknown',
    tier: q.tier === Tier.TIER_EXPERT ? 'expert' : 'front-office',
    waiting: q.waiting,
    oldestWaitMs: q.oldestWaitMs,
    serviceLevel: q.serviceLevel,
    estimatedWaitMs: q.estimatedWaitMs,
    agentsStaffed: q.agentsStaffed,
    agentsNeeded: q.agentsNeeded,
    arrivalsPerMinute: q.arrivalsPerMinute,
  };
}

const identityView = (i: { kind: IdentityKind; value: string; namespace: string }) => ({
  kind: IDENTITY_KINDS[i.kind] ?? 'other',
  value: i.value,
  ...(i.namespace ? { namespace: i.namespace } : {}),
});

export function customerView(c: Customer) {
  return {
    id: c.customerId,
    displayName: c.displayName,
    identities: c.identities.map(identityView),
    claimedIdentities: c.claimedIdentities.map(identityView),
    flags: flagsOn({ customer: { flags: c.flags.filter((f) => customerFlagName(f.kind)) } }),
    accountId: c.accountId || null,
    createdAt: c.createdAt ? c.createdAt.toISOString() : null,
    mergedInto: c.mergedInto || null,
  };
}

export function historyView(h: HistoryEntry) {
  return {
    id: h.entryId,
    conversationId: h.conversationId,
    channel: channelName(h.channel) ?? 'unknown',
    kind: HISTORY_KINDS[h.kind] ?? 'other',
    occurredAt: h.occurredAt ? h.occurredAt.toISOString() : null,
    agentId: h.agentId || null,
    detail: h.detail,
  };
}
