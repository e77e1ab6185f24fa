// A conversation as the API answers it (openapi.json's Conversation), from routing's
// LiveConversation, or from customer-record's record of it once routing no longer holds it, and
// customer-record's history entries; no I/O, no contents.
import { channelName } from '#libs/contact';
import { Tier, type ConversationHit, type HistoryEntry, type LiveConversation } from '#libs/proto';
import { historyView } from './views';

export interface ConversationView {
  id: string;
  channel: string;
  state: string;
  queue: string | null;
  tier: 'expert' | 'front-office';
  agentId: string | null;
  customerId: string | null;
  reference: string | null;
  application: string | null;
  companyInitiated: boolean | null;
  escalated: boolean | null;
  createdAt: string | null;
  assignedAt: string | null;
  sla: { state: string; targetMs: number } | null;
}

export function conversationView(c: LiveConversation): ConversationView {
  return {
    id: c.conversationId,
    channel: channelName(c.channel) ?? 'unknown',
    state: c.state,
    queue: c.queue || null,
    tier: c.tier === Tier.TIER_EXPERT ? 'expert' : 'front-office',
    agentId: c.agentId || null,
    customerId: c.customerId || null,
    reference: c.reference || null,
    application: c.application || null,
    companyInitiated: c.companyInitiated,
    escalated: c.escalated,
    createdAt: c.createdAt ? c.createdAt.toISOString() : null,
    assignedAt: c.assignedAt ? c.assignedAt.toISOString() : null,
    sla: { state: c.slaState, targetMs: Number(c.slaTargetMs) },
  };
}

/**
 * A conversation as customer-record's index recorded it (routing no longer holds ended ones).
 * What only routing knew while it was open is null: its reference, application, SLA, when it
 * was taken, whether it was escalated or company-initiated.
 */
export function recordedConversationView(c: ConversationHit): ConversationView {
  return {
    id: c.conversationId,
    channel: channelName(c.channel) ?? 'unknown',
    state: c.state,
    queue: c.queue || null,
    tier: c.queue.startsWith('tier2/') ? 'expert' : 'front-office',
    agentId: c.agentId || null,
    customerId: c.customerId || null,
    reference: null,
    application: null,
    companyInitiated: null,
    escalated: null,
    createdAt: c.startedAt ? c.startedAt.toISOString() : null,
    assignedAt: null,
    sla: null,
  };
}

/** The conversation with its steps, oldest first; texts and subjects only when they were read (null otherwise). */
export function conversationDetail(c: ConversationView, steps: HistoryEntry[], withTexts: boolean) {
  const ordered = [...steps].sort((a, b) => (a.occurredAt?.getTime() ?? 0) - (b.occurredAt?.getTime() ?? 0));
  const step = (h: HistoryEntry) => ({ ...historyView(h), subject: withTexts ? h.subject : null, text: withTexts ? h.text : null });
  return { ...c, steps: ordered.map(step) };
}
