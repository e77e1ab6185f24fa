// What routing remembers of a customer between conversations: the front-office agent who last
// served them (a target of their next conversation) and what was resolved recently (a new
// conversation on the same subject is a repeat contact and goes to the experts).
import { IdentityKind, type Identity } from '#libs/proto';
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

/**
 * The key of a customer customer-record did not name: the sender, `<kind>:<value>`, and for kind
 * OTHER `<kind>:<namespace>/<value>` (the value alone is only unique within its namespace, and
 * erasure hashes the identity with it).
 */
export function senderCustomerKey(sender: Identity): string {
  return sender.kind === IdentityKind.IDENTITY_KIND_OTHER ? `${sender.kind}:${sender.namespace}/${sender.value}` : `${sender.kind}:${sender.value}`;
}

/** The sender a customer key stands for, or undefined for a customer id or a conversation's key. */
export function senderOfCustomerKey(key: string): Identity | undefined {
  const sep = key.indexOf(':');
  if (sep <= 0 || !/^\d+$/.test(key.slice(0, sep))) return undefined;
  const kind = Number(key.slice(0, sep));
  const value = key.slice(sep + 1);
  if (kind !== IdentityKind.IDENTITY_KIND_OTHER) return { kind, value, namespace: '' };
  const slash = value.indexOf('/');
  // A key written before namespaces were part of it has none: it cannot be matched as an identity.
  return slash > 0 ? { kind, value: value.slice(slash + 1), namespace: value.slice(0, slash) } : undefined;
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
