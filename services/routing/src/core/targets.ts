// The target list: whom a waiting conversation may be offered to, narrowest first. Each step
// but the last waits its timeout, then the list widens to the next; an agent of an earlier
// step stays eligible after the list widened.
import { Presence, Tier } from '#libs/proto';
import type { Core } from './context';
import type { RoutingPolicy } from './policy';
import type { AgentRecord, ConversationRecord } from './records';

export type TargetStep = 'account-manager' | 'last-agent' | 'skill-level' | 'skill-any-level' | 'whole-tier';

interface TargetStepInfo {
  step: TargetStep;
  /** Reason code: `target.<code>`. */
  code: string;
  /** Reason text, after "step N: ". */
  text: string;
  /** The policy's timeout for the step; the last step has none. */
  timeout?: keyof RoutingPolicy['stepTimeoutMs'];
}

/**
 * The steps in order. A step's number, its place in this table counted from 1, is what
 * conversation records store (`steps`) and what reasons report (`targetStep`).
 */
const TARGET_STEPS: readonly TargetStepInfo[] = [
  { step: 'account-manager', code: 'account_manager', text: 'the account manager', timeout: 'accountManager' },
  { step: 'last-agent', code: 'last_agent', text: 'the agent who last served this customer', timeout: 'lastAgent' },
  { step: 'skill-level', code: 'skilled', text: 'skilled agents speaking the language', timeout: 'skilled' },
  { step: 'skill-any-level', code: 'any_level', text: 'agents with the skill at any level', timeout: 'anyLevel' },
  { step: 'whole-tier', code: 'whole_tier', text: 'any agent of the tier' },
];

const NUMBERS = new Map(TARGET_STEPS.map((s, i) => [s.step, i + 1]));

export function stepNumber(step: TargetStep): number {
  return NUMBERS.get(step)!;
}

const WHOLE_TIER = stepNumber('whole-tier');
const SKILL_LEVEL = stepNumber('skill-level');

function targetStep(n: number): TargetStep | undefined {
  return TARGET_STEPS[n - 1]?.step;
}

export function stepCode(n: number): string {
  return TARGET_STEPS[n - 1]?.code ?? 'queue';
}

/** Reason texts by step number, made once: every offer's reason says its step. */
const STEP_TEXTS = TARGET_STEPS.map((info, i) => `step ${i + 1}: ${info.text}`);

export function stepText(n: number): string {
  return STEP_TEXTS[n - 1] ?? 'from the queue';
}

function stepTimeout(policy: RoutingPolicy, n: number): number | undefined {
  const key = TARGET_STEPS[n - 1]?.timeout;
  return key === undefined ? undefined : policy.stepTimeoutMs[key];
}

/** The step the conversation has reached (the whole tier once past the end). */
export function currentStep(conv: ConversationRecord): number {
  return conv.steps[conv.stepIndex] ?? WHOLE_TIER;
}

export function isWholeTier(n: number): boolean {
  return n === WHOLE_TIER;
}

export function isSkillLevel(n: number): boolean {
  return n === SKILL_LEVEL;
}

/** Whether the list has widened past the named agents to the queue's skilled agents. */
export function reachesQueue(conv: ConversationRecord): boolean {
  return currentStep(conv) >= SKILL_LEVEL;
}

export function reachesWholeTier(conv: ConversationRecord): boolean {
  return currentStep(conv) >= WHOLE_TIER;
}

/**
 * A new list. In the front office the account manager and the last agent come first, each
 * only when logged in (a step nobody can take would only delay the conversation).
 */
export function targetList(conv: ConversationRecord, agents: Map<string, AgentRecord>): number[] {
  const steps: number[] = [];
  if (conv.tier === Tier.TIER_FRONT_OFFICE) {
    const am = conv.accountManagerId ? agents.get(conv.accountManagerId) : undefined;
    if (am && am.presence !== Presence.PRESENCE_OFFLINE) steps.push(stepNumber('account-manager'));
    const last = conv.lastAgentId ? agents.get(conv.lastAgentId) : undefined;
    if (last && last.presence !== Presence.PRESENCE_OFFLINE && last.id !== conv.accountManagerId) steps.push(stepNumber('last-agent'));
  }
  steps.push(stepNumber('skill-level'), stepNumber('skill-any-level'), WHOLE_TIER);
  return steps;
}

/** The first step of the list, up to the current one, through which `agent` may take `conv` (0: none). */
export function matchStep(conv: ConversationRecord, agent: AgentRecord): number {
  const current = currentStep(conv);
  for (const n of conv.steps) {
    if (n > current) break;
    if (eligibleAt(n, conv, agent)) return n;
  }
  return 0;
}

function eligibleAt(n: number, conv: ConversationRecord, agent: AgentRecord): boolean {
  const step = targetStep(n);
  if (step === 'account-manager') return agent.id === conv.accountManagerId;
  if (step === 'last-agent') return agent.id === conv.lastAgentId;
  if (agent.tier !== conv.tier) return false;
  const level = agent.skills[conv.skill];
  switch (step) {
    case 'skill-level':
      return level !== undefined && level >= conv.classification.minLevel && speaks(agent, conv.language);
    case 'skill-any-level':
      return level !== undefined;
    case 'whole-tier':
      return true;
    default:
      return false;
  }
}

/** An agent who lists no languages, or a conversation of unknown language, matches any. */
function speaks(agent: AgentRecord, language: string): boolean {
  return !language || agent.languages.length === 0 || agent.languages.includes(language);
}

// Step timeouts count the queue's open time only, as the SLA clock does: a timer is set at the
// earliest the timeout could be reached (as if always open) and, when it fires, set again for
// the instant the open time really reaches it (stepDue). So a step due while the queue is
// closed widens at the same open-time offset after the opening, and no timer is late whatever
// the calendar became.

/** Starts the current step: its timeout to the next one, or for the last step the whole tier at once. */
export function scheduleStep(core: Core, conv: ConversationRecord): void {
  const n = conv.steps[conv.stepIndex];
  if (n === undefined) return;
  const timeout = stepTimeout(core.policy, n);
  if (timeout !== undefined) core.timers.push(conv.stepSince + timeout, 'step', conv.id, ++conv.stepSeq);
  if (isWholeTier(n)) core.waiting.widen(conv);
}

/** Back in the queue after an offer, or the calendars replaced: the step keeps its deadline in open time, or widens now if that passed. */
export function rescheduleStep(core: Core, conv: ConversationRecord): void {
  const n = conv.steps[conv.stepIndex];
  const timeout = n === undefined ? undefined : stepTimeout(core.policy, n);
  if (timeout !== undefined) core.timers.push(Math.max(conv.stepSince + timeout, core.clock.now()), 'step', conv.id, ++conv.stepSeq);
}

/** The step timer fired at `at`: true when the step's open time is up; else it is set again for when it will be. */
export function stepDue(core: Core, conv: ConversationRecord, at: number): boolean {
  const n = conv.steps[conv.stepIndex];
  const timeout = n === undefined ? undefined : stepTimeout(core.policy, n);
  if (timeout === undefined) return true;
  if (core.calendars.elapsed(conv.queue, conv.stepSince, at) >= timeout) return true;
  core.timers.push(Math.max(at + 1, core.calendars.after(conv.queue, conv.stepSince, timeout)), 'step', conv.id, conv.stepSeq);
  return false;
}
