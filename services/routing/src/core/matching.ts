// Choosing: the best agent for a waiting conversation, and the most urgent conversation for an
// agent who has room. Nothing here changes state.
import type { Core } from './context';
import { CHANNELS } from './policy';
import type { AgentRecord, ConversationRecord } from './records';
import { currentStep, isSkillLevel, matchStep, reachesQueue, reachesWholeTier, stepNumber } from './targets';
import { queueName } from './waiting';

export interface AgentChoice {
  agent: AgentRecord;
  /** The target step through which the agent qualifies. */
  step: number;
  /** How many agents were eligible (for the reason). */
  eligible: number;
}

/** The agent to offer `conv` to now, if anyone may take it. */
export function bestAgentFor(core: Core, conv: ConversationRecord): AgentChoice | undefined {
  const named = bestNamedAgent(core, conv);
  if (named || !reachesQueue(conv)) return named;
  const tally = { eligible: 0 };
  const found = scanReady(core, conv, conv.skill, Math.min(currentStep(conv), stepNumber('skill-any-level')), tally) ?? (reachesWholeTier(conv) ? scanReady(core, conv, '*', stepNumber('whole-tier'), tally) : undefined);
  return found && { ...found, eligible: tally.eligible };
}

/** The account manager or the last agent, when either may take the conversation now. */
function bestNamedAgent(core: Core, conv: ConversationRecord): AgentChoice | undefined {
  let best: AgentChoice | undefined;
  let eligible = 0;
  const ids = conv.lastAgentId && conv.lastAgentId !== conv.accountManagerId ? [conv.accountManagerId, conv.lastAgentId] : [conv.accountManagerId];
  for (const id of ids) {
    const agent = id ? core.agents.records.get(id) : undefined;
    if (!agent || !core.agents.canTake(agent, conv)) continue;
    const step = matchStep(conv, agent);
    if (!step) continue;
    eligible++;
    if (!best || step < best.step || (step === best.step && better(agent, best.agent))) best = { agent, step, eligible: 0 };
  }
  return best && { ...best, eligible };
}

/**
 * Buckets in order of load, each in order of idleness: the first match is the best one of its
 * step, so the scan stops at the first agent of the skill-level step; otherwise the first
 * agent of a wider step, up to `maxStep`, is the fallback. Every agent in a bucket looked at
 * counts as eligible.
 */
function scanReady(core: Core, conv: ConversationRecord, skill: string, maxStep: number, tally: { eligible: number }): { agent: AgentRecord; step: number } | undefined {
  let fallback: { agent: AgentRecord; step: number } | undefined;
  for (const bucket of core.agents.readyBuckets(conv.tier, skill)) {
    if (!bucket) continue;
    tally.eligible += bucket.size;
    for (const id of bucket) {
      const agent = core.agents.records.get(id)!;
      if (!core.agents.canTake(agent, conv)) continue;
      const step = matchStep(conv, agent);
      if (isSkillLevel(step)) return { agent, step };
      if (step && step <= maxStep && !fallback) fallback = { agent, step };
    }
  }
  return fallback;
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
  const pick: { conv?: ConversationRecord; step: number } = { step: 0 };
  for (const skill of Object.keys(agent.skills)) {
    for (const ch of CHANNELS) {
      if (agent.capacity[ch] <= agent.load[ch]) continue;
      const q = core.waiting.queues.get(queueName(agent.tier, skill, ch));
      if (!q) continue;
      for (let i = 0; i < Math.min(q.length, QUEUE_LOOKAHEAD); i++) consider(core, agent, q.entries[i]!.id, pick);
    }
  }
  for (const id of core.waiting.targetingAgent(agent.id)) consider(core, agent, id, pick);
  for (const id of core.waiting.widenedIn(agent.tier)) consider(core, agent, id, pick);
  return pick.conv && { conv: pick.conv, step: pick.step };
}

/** Keeps the conversation if it is more urgent (higher queue key) than the one picked so far and the agent may take it. */
function consider(core: Core, agent: AgentRecord, id: string, pick: { conv?: ConversationRecord; step: number }): void {
  const conv = core.conversations.get(id);
  if (!conv || conv.state !== 'queued' || (pick.conv && conv.queueKey <= pick.conv.queueKey) || !core.agents.canTake(agent, conv)) return;
  const step = matchStep(conv, agent);
  if (step) {
    pick.conv = conv;
    pick.step = step;
  }
}
