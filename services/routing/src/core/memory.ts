// What routing remembers of a customer between conversations: the front-office agent who last
// served them (a target of their next conversation) and what was resolved recently (a new
// conversation on the same subject is a repeat contact and goes to the experts).
import type { RoutingPolicy } from './policy';
import type { CustomerMemory } from './records';
import { pushBounded } from './rings';

/** The subject without reply and forward prefixes; conversations without one compare by skill. */
export function subjectKey(subject: string, skill: string): string {
  if (!subject) return `skill:${skill}`;
  const s = subject
    .toLowerCase()
    .replace(/^\s*((re|fwd?|aw|tr|sv)\s*:\s*)+/i, '')
    .replace(/\s+/g, ' ')
    .trim();
  return s || `skill:${skill}`;
}

/** The last agent, while still within the window in which they are a target. */
export function lastAgentOf(memory: CustomerMemory | undefined, now: number, policy: RoutingPolicy): string {
  return memory && memory.lastAgentId && now - memory.lastAgentAt <= policy.lastAgentWindowMs ? memory.lastAgentId : '';
}

/** A recent resolution, of another conversation, on the same subject. */
export function findRepeat(memory: CustomerMemory | undefined, key: string, conversationId: string, now: number, policy: RoutingPolicy) {
  return memory?.resolved.find((r) => r.subjectKey === key && r.conversationId !== conversationId && now - r.at <= policy.repeatContactWindowMs);
}

/** Records a resolution; `frontOfficeAgentId` (empty for an expert) becomes the last agent. */
export function rememberResolution(
  customers: Map<string, CustomerMemory>,
  customerKey: string,
  resolved: { subjectKey: string; conversationId: string; frontOfficeAgentId: string },
  now: number,
  policy: RoutingPolicy,
): CustomerMemory {
  const known = customers.get(customerKey);
  const memory = known ?? { key: customerKey, lastAgentId: '', lastAgentAt: 0, resolved: [] };
  if (resolved.frontOfficeAgentId) {
    memory.lastAgentId = resolved.frontOfficeAgentId;
    memory.lastAgentAt = now;
  }
  // A new list only when something expired: most resolutions find none.
  if (anyExpired(memory.resolved, now, policy.repeatContactWindowMs))
    memory.resolved = memory.resolved.filter((r) => now - r.at <= policy.repeatContactWindowMs);
  pushBounded(memory.resolved, { subjectKey: resolved.subjectKey, at: now, conversationId: resolved.conversationId }, 20);
  if (!known) customers.set(memory.key, memory);
  return memory;
}

function anyExpired(resolved: readonly { at: number }[], now: number, windowMs: number): boolean {
  for (const r of resolved) if (now - r.at > windowMs) return true;
  return false;
}
