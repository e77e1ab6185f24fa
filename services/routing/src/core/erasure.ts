// Erased customers leave routing's state (pure). An erasure names its subjects by keyed hash
// (`#libs/erasure`); routing holds conversations (customer name, subject, numbers) and customer
// memories (subjects of past resolutions) under ids it can hash. A conversation of an erased
// conversation, customer or sender identity, created at or before the erasure, is taken out of
// queues, offers and agents' loads and deleted; a memory loses what it learnt before. The
// changes go out as the usual changelog deletes, so a restore does not bring them back.
import type { ErasureSet } from '#libs/erasure';
import type { Core } from './context';
import { pullFor } from './dispatch';
import { release } from './offers';
import { senderOfCustomerKey } from './memory';
import type { ConversationRecord, CustomerMemory } from './records';
import { reason } from './reasons';

/** What an erasure took out of the state. */
export interface ErasedCounts {
  conversations: number;
  customers: number;
}

export function eraseSubjects(core: Core, erased: ErasureSet): ErasedCounts {
  const counts: ErasedCounts = { conversations: 0, customers: 0 };
  if (erased.size === 0) return counts;
  for (const conv of [...core.conversations.values()]) {
    if (!conversationErased(erased, conv)) continue;
    dropConversation(core, conv);
    counts.conversations += 1;
  }
  for (const memory of [...core.customers.values()]) {
    if (forgetErased(core, erased, memory)) counts.customers += 1;
  }
  return counts;
}

function conversationErased(erased: ErasureSet, conv: ConversationRecord): boolean {
  const at = conv.createdAt;
  if (erased.erasedSince('conversation', conv.id, at)) return true;
  if (conv.customerId && erased.erasedSince('customer', conv.customerId, at)) return true;
  const byKey = keyErasedAt(erased, conv.customerKey);
  return byKey !== undefined && at <= byKey;
}

/**
 * When the subject a customer key names was erased: a customer id (from customer-record), a
 * sender identity (without customer-record, `senderCustomerKey`) or `conversation:<id>`.
 */
function keyErasedAt(erased: ErasureSet, key: string): number | undefined {
  if (key.startsWith('conversation:')) return erased.erasedAtOf('conversation', key.slice('conversation:'.length));
  const sender = senderOfCustomerKey(key);
  const byIdentity = sender ? erased.identityErasedAt(sender) : undefined;
  return byIdentity ?? erased.erasedAtOf('customer', key);
}

/** Out of the queue, the offer or the agent's load, then gone; the agent is told and may take the next. */
function dropConversation(core: Core, conv: ConversationRecord): void {
  if (conv.state === 'queued') core.waiting.leave(conv);
  const agent = conv.state === 'offered' || conv.state === 'assigned' ? core.agents.records.get(conv.agentId) : undefined;
  if (agent) {
    release(core, conv, agent);
    core.out.revoked(agent.id, conv.id, reason('customer.erased', 'the customer’s data was erased on their request'));
  }
  // Timers of a conversation routing no longer holds are passed by (scheduled.ts).
  core.conversations.delete(conv.id);
  core.out.conversationChanged(conv.id);
  if (agent && agent.wrapUpUntil <= core.clock.now()) pullFor(core, agent);
}

/** Forgets resolutions (and the last agent) learnt before the customer's erasure, and erased conversations' subjects. */
function forgetErased(core: Core, erased: ErasureSet, memory: CustomerMemory): boolean {
  const byKey = keyErasedAt(erased, memory.key);
  const kept = memory.resolved.filter((r) => (byKey === undefined || r.at > byKey) && erased.erasedAtOf('conversation', r.conversationId) === undefined);
  const forgetAgent = byKey !== undefined && memory.lastAgentAt <= byKey && memory.lastAgentId !== '';
  if (kept.length === memory.resolved.length && !forgetAgent) return false;
  memory.resolved = kept;
  if (forgetAgent) {
    memory.lastAgentId = '';
    memory.lastAgentAt = 0;
  }
  if (memory.resolved.length === 0 && memory.lastAgentId === '') core.customers.delete(memory.key);
  core.out.customerChanged(memory.key);
  return true;
}
