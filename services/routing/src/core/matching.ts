// Choosing: the best agent for a waiting conversation, and the most urgent conversation for an
// agent who has room. Nothing here changes state.
import { mayOffer } from './hours';
import type { Core } from './context';
import type { AgentRecord, ConversationRecord } from './records';
import { currentStep, isSkillLevel, matchStep, reachesQueue, reachesWholeTier, stepNumber } from './targets';

export interface AgentChoice {
  agent: AgentRecord;
  /** The target step through which the agent qualifies. */
  step: number;
  /** How many agents were eligible (for the reason). */
  eligible: number;
}

/** A choice being made: no agent yet, or the best so far. */
type Choosing = Omit<AgentChoice, 'agent'> & { agent?: AgentRecord };

/** The agent to offer `conv` to now, if anyone may take it. */
export function bestAgentFor(core: Core, conv: ConversationRecord): AgentChoice | undefined {
  const choice: Choosing = { step: 0, eligible: 0 };
  considerNamed(core, conv, conv.accountManagerId, choice);
  if (conv.lastAgentId !== conv.accountManagerId) considerNamed(core, conv, conv.lastAgentId, choice);
  if (!choice.agent && reachesQueue(conv)) {
    choice.eligible = 0;
    if (!scanReady(core, conv, conv.skill, Math.min(currentStep(conv), stepNumber('skill-any-level')), choice) && reachesWholeTier(conv))
      scanReady(core, conv, '*', stepNumber('whole-tier'), choice);
  }
  return choice.agent ? (choice as AgentChoice) : undefined;
}

/** The account manager or the last agent (`id`), if they may take the conversation now and are better than the choice so far. */
function considerNamed(core: Core, conv: ConversationRecord, id: string, choice: Choosing): void {
  const agent = id ? core.agents.records.get(id) : undefined;
  if (!agent || !core.agents.canTake(agent, conv)) return;
  const step = matchStep(conv, agent);
  if (!step) return;
  choice.eligible++;
  if (!choice.agent || step < choice.step || (step === choice.step && better(agent, choice.agent))) {
    choice.agent = agent;
    choice.step = step;
  }
}

/**
 * Buckets in order of load, each in order of idleness: the first match is the best one of its
 * step, so the scan stops at the first agent of the skill-level step; otherwise the first
 * agent of a wider step, up to `maxStep`, is the fallback. Every agent in a bucket looked at
 * counts as eligible. True when it found someone.
 */
function scanReady(core: Core, conv: ConversationRecord, skill: string, maxStep: number, choice: Choosing): boolean {
  for (const bucket of core.agents.readyBuckets(conv.tier, skill)) {
    if (!bucket) continue;
    choice.eligible += bucket.size;
    for (let node = bucket.head; node; node = node.next) {
      const agent = node.agent;
      if (!core.agents.canTake(agent, conv)) continue;
      const step = matchStep(conv, agent);
      if (isSkillLevel(step)) {
        choice.agent = agent;
        choice.step = step;
        return true;
      }
      if (step && step <= maxStep && !choice.agent) {
        choice.agent = agent;
        choice.step = step;
      }
    }
  }
  return choice.agent !== undefined;
}

/** Fewer conversations first, then the longest idle (then the id, for a stable order). */
function better(a: AgentRecord, b: AgentRecord): boolean {
  if (a.active.length !== b.active.length) return a.active.length < b.active.length;
  return a.idleSince < b.idleSince || (a.idleSince === b.idleSince && a.id < b.id);
}

/** How many entries of each queue an agent looks at: the head is usually it; a few more cover entries still at a narrower step. */
const QUEUE_LOOKAHEAD = 20;

/** The most urgent waiting conversation `agent` may take now, if any. */
export function bestConversationFor(core: Core, agent: AgentRecord): { conv: ConversationRecord; step: number } | undefined {
  // Every conversation the indexes below name is waiting in a queue.
  if (core.waiting.empty) return undefined;
  const named = core.waiting.names(agent.id);
  // Open entries include every conversation that reached the whole tier.
  if (!named && !core.waiting.hasOpenIn(agent.tier)) return undefined;
  const pick: { conv?: ConversationRecord; step: number } = { step: 0 };
  for (const served of core.agents.servedQueues(agent)) {
    if ((agent.capacity[served.channel] ?? 0) <= (agent.load[served.channel] ?? 0)) continue;
    // Queues are never dropped: once found, the queue stays the one of that name.
    const q = (served.found ??= core.waiting.queues.get(served.queue));
    if (!q || (q.open === 0 && !named)) continue;
    for (let i = 0; i < Math.min(q.length, QUEUE_LOOKAHEAD); i++) {
      const entry = q.entries[i]!;
      // Entries are by key, highest first, and an entry's key is its conversation's: the rest of this queue is no more urgent.
      if (pick.conv && entry.key <= pick.conv.queueKey) break;
      // Still at the named steps: nobody else may take it (and they find it through the index below too).
      if (!entry.open && entry.conv.accountManagerId !== agent.id && entry.conv.lastAgentId !== agent.id) continue;
      consider(core, agent, entry.conv, pick);
    }
  }
  for (const id of core.waiting.targetingAgent(agent.id)) consider(core, agent, core.conversations.get(id), pick);
  for (const id of core.waiting.widenedIn(agent.tier)) consider(core, agent, core.conversations.get(id), pick);
  return pick.conv && { conv: pick.conv, step: pick.step };
}

/** Keeps the conversation if it is more urgent (higher queue key) than the one picked so far and the agent may take it. */
function consider(core: Core, agent: AgentRecord, conv: ConversationRecord | undefined, pick: { conv?: ConversationRecord; step: number }): void {
  if (!conv || conv.state !== 'queued' || (pick.conv && conv.queueKey <= pick.conv.queueKey) || !core.agents.canTake(agent, conv)) return;
  // A closed queue's conversations wait for its opening (hours.ts).
  if (!mayOffer(core, conv, core.clock.now())) return;
  const step = matchStep(conv, agent);
  if (step) {
    pick.conv = conv;
    pick.step = step;
  }
}
