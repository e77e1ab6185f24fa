// An offer's life: made to one agent with a deadline, then accepted (the conversation is
// assigned), declined or timed out (it goes back to its place in the queue).
import { CHANNEL_ENUM } from '#libs/contact';
import { OutboundKind, Presence, type Reason } from '#libs/proto';
import { callbackOffer, dialCallback } from './callback-rules';
import { type Core, conversationOf } from './context';
import { type AgentRecord, type ConversationRecord, RoutingError } from './records';
import { displayName, reason, ruleIds } from './reasons';
import { stopSla } from './sla';
import { currentStep, isWholeTier, rescheduleStep, stepCode, stepText } from './targets';

/** The agent and the conversation, which must be offered to them. */
export function offeredTo(core: Core, agentId: string, conversationId: string): { agent: AgentRecord; conv: ConversationRecord } {
  const agent = core.agents.get(agentId);
  const conv = conversationOf(core, conversationId);
  if (conv.state !== 'offered' || conv.agentId !== agentId)
    throw new RoutingError('FAILED_PRECONDITION', `conversation ${conversationId} is not offered to ${agentId}`);
  return { agent, conv };
}

/** Offers a waiting conversation to `agent`, chosen through target step `step` among `eligible` agents. */
export function offer(core: Core, conv: ConversationRecord, agent: AgentRecord, now: number, step: number, eligible: number, why: string): void {
  core.waiting.leave(conv);
  conv.state = 'offered';
  conv.agentId = agent.id;
  conv.offerExpiresAt = now + core.policy.offerTimeoutMs;
  core.agents.addLoad(agent, conv);
  agent.idleSince = now;
  const r = reason(`target.${stepCode(step)}`, `offered to ${displayName(agent)} (${stepText(step)})`, {
    rule: ruleIds(conv.classification.matched),
    targetStep: step,
    eligibleAgents: eligible,
    whyChosen: why,
  });
  core.out.event(conv, r, { $case: 'offered', offered: { agentId: agent.id, expiresAt: core.out.dateAt(conv.offerExpiresAt) } });
  core.timers.push(conv.offerExpiresAt, 'offer', conv.id, ++conv.offerSeq);
  core.out.notify(agent.id, { $case: 'offer', offer: offerView(conv, r, core.out) });
  core.agents.changed(agent);
}

const NEW_DATES = { dateAt: (ms: number) => new Date(ms) };

/** The conversation as the agent's desk shows it, with an offer or an assignment (and why, when it is news). */
export function offerView(conv: ConversationRecord, r?: Reason, dates: { dateAt(ms: number): Date } = NEW_DATES) {
  return {
    conversationId: conv.id,
    channel: CHANNEL_ENUM[conv.channel],
    customerId: conv.customerId,
    customerName: conv.customerName,
    badges: conv.flags,
    expiresAt: conv.state === 'offered' ? dates.dateAt(conv.offerExpiresAt) : undefined,
    subject: conv.subject,
    escalationNote: conv.escalationNote,
    reason: r,
    customerIdentity: conv.recipient,
    callback: callbackOffer(conv.callback, dates),
  };
}

/** The conversation is the agent's: accepted, or moved to them by a transfer or a supervisor. */
export function assign(core: Core, conv: ConversationRecord, agent: AgentRecord, now: number, r: Reason): void {
  const waited = now - conv.enqueuedAt;
  conv.state = 'assigned';
  conv.agentId = agent.id;
  conv.assignedAt = now;
  conv.offerSeq++;
  if (!agent.active.includes(conv.id)) core.agents.addLoad(agent, conv);
  const callback = conv.callback && (conv.callback.state === 'waiting' || conv.callback.state === 'retry-wait') ? conv.callback : undefined;
  // A callback's wait ends when the customer answers (callbacks.ts), not when an agent accepts.
  if (!callback) core.stats.answered(conv.queue, conv.estimateMs, waited);
  core.out.event(conv, r, { $case: 'assigned', assigned: { agentId: agent.id, tier: agent.tier, waitedMs: waited } });
  // Live channels: the agent picking it up is the first response.
  if (conv.channel === 'voice' || conv.channel === 'chat') stopSla(core, conv, now);
  if (conv.channel === 'chat')
    core.out.outbound(conv, OutboundKind.OUTBOUND_KIND_AGENT_JOINED, `${agent.name || 'An agent'} has joined the conversation.`, agent.id);
  if (callback) dialCallback(core, conv, callback, agent.id);
  else if (conv.channel === 'voice') core.out.outbound(conv, OutboundKind.OUTBOUND_KIND_CONNECT_CALL, '', agent.id);
  core.out.notify(agent.id, { $case: 'assigned', assigned: offerView(conv, r, core.out) });
  core.agents.changed(agent);
}

/** Takes a conversation off the agent's load; a pending offer timer goes stale. */
export function release(core: Core, conv: ConversationRecord, agent: AgentRecord): void {
  core.agents.release(agent, conv);
  conv.offerSeq++;
}

/**
 * The agent declined or let the offer run out. The conversation goes back to its old place in
 * the queue and will not be offered to them again; missing several in a row sets them away.
 */
export function endOffer(core: Core, conv: ConversationRecord, agent: AgentRecord, timedOut: boolean): void {
  release(core, conv, agent);
  conv.declinedBy.push(agent.id);
  const code = timedOut ? 'offer.timed_out' : 'offer.declined';
  const text = timedOut ? `no answer from ${agent.id} within ${core.policy.offerTimeoutMs / 1000} s` : `${agent.id} declined`;
  core.out.event(conv, reason(code, text), { $case: 'offerDeclined', offerDeclined: { agentId: agent.id, timedOut } });
  core.out.revoked(agent.id, conv.id, reason(code, 'offer withdrawn'));
  if (timedOut && ++agent.missedOffers >= core.policy.maxMissedOffers) {
    core.agents.setPresenceOf(agent, Presence.PRESENCE_AWAY);
    core.agents.staffingChanged();
    core.agents.changed(agent);
  }
  conv.state = 'queued';
  conv.agentId = '';
  core.waiting.insert(conv);
  if (isWholeTier(currentStep(conv))) core.waiting.widen(conv);
  rescheduleStep(core, conv);
}
