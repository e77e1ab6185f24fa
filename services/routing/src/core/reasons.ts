// Every decision carries a Reason: a machine-readable code, the same in words, and for offers
// the target step, how many agents were eligible and why this one.
import type { Reason } from '#libs/proto';

export interface ReasonDetails {
  /** The configured rules that matched, comma-separated. */
  rule?: string;
  targetStep?: number;
  eligibleAgents?: number;
  whyChosen?: string;
}

export function reason(code: string, text: string, details: ReasonDetails = {}): Reason {
  return {
    code,
    text,
    rule: details.rule ?? '',
    targetStep: details.targetStep ?? 0,
    eligibleAgents: details.eligibleAgents ?? 0,
    whyChosen: details.whyChosen ?? '',
  };
}

/** The agent's name for reason texts, the id when the name is empty. */
export function displayName(agent: { id: string; name: string }): string {
  return agent.name || agent.id;
}

/** The ids of the rules that matched, comma-separated (the one id itself when one matched: most contacts). */
export function ruleIds(matched: readonly string[]): string {
  return matched.length === 1 ? matched[0]! : matched.join(',');
}
