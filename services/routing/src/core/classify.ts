// Classification of a new conversation by the configured rules: skill, priority, complexity,
// risk. Every matching rule contributes; the first rule naming a skill sets it, and priority,
// complexity and risk take the highest value any matching rule gives.
import { RiskLevel } from '../../../../libs/proto';
import type { ChannelName, ClassificationRule, RoutingPolicy } from './policy';

export interface Classification {
  skill: string;
  priority: number;
  complexity: number;
  risk: RiskLevel;
  minLevel: number;
  /** Ids of the rules that matched, in order. */
  matched: string[];
}

export interface ClassifyInput {
  subject: string;
  text: string;
  language: string;
  channel: ChannelName;
  customerFlags: string[];
}

interface CompiledRule {
  rule: ClassificationRule;
  keywords: string[];
  pattern?: RegExp;
}

export class Classifier {
  private readonly compiled: CompiledRule[];

  constructor(private readonly policy: RoutingPolicy) {
    this.compiled = policy.rules.map((rule) => {
      if (rule.when.pattern && rule.when.pattern.length > 500) throw new Error(`rule ${rule.id}: pattern longer than 500 characters`);
      let pattern: RegExp | undefined;
      try {
        pattern = rule.when.pattern ? new RegExp(rule.when.pattern, 'iu') : undefined;
      } catch (err) {
        throw new Error(`rule ${rule.id}: invalid pattern: ${err instanceof Error ? err.message : String(err)}`);
      }
      return { rule, keywords: (rule.when.keywords ?? []).map((k) => k.toLowerCase()), pattern };
    });
  }

  classify(input: ClassifyInput): Classification {
    // Only the first 10,000 characters are read: enough to classify, bounded in cost.
    const body = `${input.subject}\n${input.text}`.slice(0, 10_000);
    const lower = ` ${body.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
    const language = input.language.toLowerCase().split('-')[0] ?? '';
    const result: Classification = { skill: '', priority: 0, complexity: 0, risk: RiskLevel.RISK_LEVEL_LOW, minLevel: 1, matched: [] };
    for (const { rule, keywords, pattern } of this.compiled) {
      const w = rule.when;
      if (w.languages && !w.languages.some((l) => l.toLowerCase() === language)) continue;
      if (w.channels && !w.channels.includes(input.channel)) continue;
      if (w.customerFlags && !w.customerFlags.some((f) => input.customerFlags.includes(f))) continue;
      if (keywords.length > 0 && !keywords.some((k) => lower.includes(` ${k} `))) continue;
      if (pattern && !pattern.test(body)) continue;
      result.matched.push(rule.id);
      const t = rule.then;
      if (t.skill && !result.skill) result.skill = t.skill;
      if (t.priority !== undefined) result.priority = Math.max(result.priority, t.priority);
      if (t.complexity !== undefined) result.complexity = Math.max(result.complexity, t.complexity);
      if (t.risk !== undefined) result.risk = Math.max(result.risk, t.risk);
      if (t.minLevel !== undefined) result.minLevel = Math.max(result.minLevel, t.minLevel);
    }
    if (!result.skill) result.skill = this.policy.defaultSkill;
    return result;
  }
}
