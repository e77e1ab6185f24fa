// Stored documents as the gRPC messages carry them. What a caller's role may not see is left
// out by the caller of these (contents for ops, who the customer is for ops).
import { type Account, type AuditEntry, type ConversationSummary, type Customer, type HistoryEntry, type Intermediary, type OnBehalf } from '#libs/proto';
import { openClaims } from '../claims';
import { effectiveFlags } from '../flags';
import type { HistoryRecord } from '../history';
import { toIdentity } from '#libs/contact';
import type { IntermediaryDoc, OnBehalfRecord } from '../mandates';
import type { AccountDoc, AuditDoc, ConversationDoc, CustomerDoc } from '../store/records';

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
    // The copy is written when a mandate changes; one that expired since is left out here.
    representatives: (c.representatives ?? [])
      .filter((r) => !r.expiresAt || r.expiresAt.getTime() > Date.now())
      .map((r) => ({ intermediaryId: r.intermediaryId, name: r.name, kind: r.kind, authority: r.authority, expiresAt: r.expiresAt ?? undefined })),
  };
}

export function toIntermediary(i: IntermediaryDoc): Intermediary {
  return {
    intermediaryId: i._id,
    name: i.name,
    kind: i.kind,
    identities: i.identities.map(toIdentity),
    mandates: i.mandates.map((m) => ({
      customerId: m.customerId,
      authority: m.authority,
      expiresAt: m.expiresAt ?? undefined,
      grantedBy: m.grantedBy,
      grantedAt: m.grantedAt,
      revokedAt: m.revokedAt ?? undefined,
    })),
  };
}

export function toOnBehalf(o: OnBehalfRecord): OnBehalf {
  return {
    intermediaryId: o.intermediaryId,
    intermediaryName: o.intermediaryName,
    kind: o.kind,
    authority: o.authority,
    verified: o.verified,
    claimedFor: o.claimedFor ? toIdentity(o.claimedFor) : undefined,
    problem: o.problem ?? '',
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
    // Whom the sender named is an identity: left out with the contents.
    onBehalf: h.onBehalf ? { ...toOnBehalf(h.onBehalf), ...(withContents ? {} : { claimedFor: undefined }) } : undefined,
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
    detail: a.detail ?? '',
    at: a.at,
  };
}
