// A conversation as the API answers it (openapi.json's Conversation), from routing's
// LiveConversation and customer-record's history entries; no I/O, no contents.
import { channelName } from '#libs/contact';
import { Tier, type HistoryEntry, type LiveConversation } from '#libs/proto';
import { historyView } from './views';

export function conversationView(c: LiveConversation) {
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

/** The conversation with its steps, oldest first; texts and subjects only when they were read (null otherwise). */
export function conversationDetail(c: LiveConversation, steps: HistoryEntry[], withTexts: boolean) {
  const ordered = [...steps].sort((a, b) => (a.occurredAt?.getTime() ?? 0) - (b.occurredAt?.getTime() ?? 0));
  const step = (h: HistoryEntry) => ({ ...historyView(h), subject: withTexts ? h.subject : null, text: withTexts ? h.text : null });
  return { ...conversationView(c), steps: ordered.map(step) };
}
