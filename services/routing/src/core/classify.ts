// Classification of a new conversation by the configured rules: skill, priority, complexity,
// risk. Every matching rule contributes; the first rule naming a skill sets it, and priority,
// complexity and risk take the highest value any matching rule gives.
import { RiskLevel } from '#libs/proto';
import type { ChannelName, CustomerFlagName } from '#libs/contact';
import type { ClassificationRule, RoutingPolicy } from './policy';

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
  customerFlags: CustomerFlagName[];
}

interface CompiledRule {
  rule: ClassificationRule;
  languages?: string[];
  /** The rule has keywords: it matches only if one of them is in the text. */
  hasKeywords: boolean;
  /** Keywords that are not one plain word (phrases, punctuation): looked for as substrings. */
  phrases: string[];
  pattern?: RegExp;
}

/** A keyword of letters and digits only: in the normalised text exactly when it is one of its words. */
const WORD = /^[\p{L}\p{N}]+$/u;

export class Classifier {
  private readonly compiled: CompiledRule[];
  /** Word → the rules (by index) that have it as a keyword, so a text's words find their rules at once. */
  private readonly byWord = new Map<string, number[]>();
  /** Rules the word index does not decide: without keywords, or with keywords that are not one word. */
  private readonly unindexed: number[];
  /** Per rule, the number of the last classification in which one of its keywords was a word of the text. */
  private readonly wordHit: Uint32Array;
  /** 1 at each length some one-word keyword has: the text's other words are not looked up (nor cut out of it). */
  private readonly wordLengths: Uint8Array;
  private classified = 0;

  constructor(private readonly policy: RoutingPolicy) {
    this.compiled = policy.rules.map((rule, index) => {
      if (rule.when.pattern && rule.when.pattern.length > 500) throw new Error(`rule ${rule.id}: pattern longer than 500 characters`);
      let pattern: RegExp | undefined;
      try {
        pattern = rule.when.pattern ? new RegExp(rule.when.pattern, 'iu') : undefined;
      } catch (err) {
        throw new Error(`rule ${rule.id}: invalid pattern: ${err instanceof Error ? err.message : String(err)}`);
      }
      const keywords = (rule.when.keywords ?? []).map((k) => k.toLowerCase());
      for (const k of keywords.filter((k) => WORD.test(k))) {
        const rules = this.byWord.get(k) ?? [];
        if (rules.at(-1) !== index) rules.push(index);
        this.byWord.set(k, rules);
      }
      return {
        rule,
        languages: rule.when.languages?.map((l) => l.toLowerCase()),
        hasKeywords: keywords.length > 0,
        phrases: keywords.filter((k) => !WORD.test(k)),
        pattern,
      };
    });
    this.unindexed = this.compiled.flatMap((c, i) => (!c.hasKeywords || c.phrases.length > 0 ? [i] : []));
    this.wordHit = new Uint32Array(this.compiled.length);
    const lengths = [...this.byWord.keys()].map((w) => w.length);
    this.wordLengths = new Uint8Array(Math.max(0, ...lengths) + 1);
    for (const n of lengths) this.wordLengths[n] = 1;
  }

  classify(input: ClassifyInput): Classification {
    // Only the first 10,000 characters are read: enough to classify, bounded in cost.
    const body = `${input.subject}\n${input.text}`.slice(0, 10_000);
    const text = body.toLowerCase();
    // Words separated by single spaces, with a space at both ends: a phrase matches as " phrase ".
    // Made only when a phrase is to be looked for.
    let lower: string | undefined;
    const stamp = this.nextStamp();
    const language = primaryLanguage(input.language);
    const result: Classification = { skill: '', priority: 0, complexity: 0, risk: RiskLevel.RISK_LEVEL_LOW, minLevel: 1, matched: [] };
    // Only rules that can match are looked at, in their order (the first skill wins).
    for (const i of this.candidates(text, stamp)) {
      const { rule, languages, hasKeywords, phrases, pattern } = this.compiled[i]!;
      const w = rule.when;
      if (languages && !languages.includes(language)) continue;
      if (w.channels && !w.channels.includes(input.channel)) continue;
      if (w.customerFlags && !w.customerFlags.some((f) => input.customerFlags.includes(f))) continue;
      if (hasKeywords && this.wordHit[i] !== stamp) {
        if (phrases.length === 0) continue;
        const spaced = (lower ??= ` ${text.replace(/[^\p{L}\p{N}]+/gu, ' ')} `);
        if (!phrases.some((k) => spaced.includes(` ${k} `))) continue;
      }
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

  private nextStamp(): number {
    // 0 is never a stamp; after 2^32 - 1 classifications the stamps start again from a clean array.
    if (++this.classified > 0xffffffff) {
      this.classified = 1;
      this.wordHit.fill(0);
    }
    return this.classified;
  }

  /** Stamps the rules one of the text's words is a keyword of; returns them with the unindexed ones, in rule order. */
  private candidates(text: string, stamp: number): number[] {
    if (this.byWord.size === 0) return this.unindexed;
    const hits: number[] = [];
    for (const word of wordsOf(text, this.wordLengths)) {
      const rules = this.byWord.get(word);
      if (!rules) continue;
      for (const i of rules) {
        if (this.wordHit[i] === stamp) continue;
        this.wordHit[i] = stamp;
        hits.push(i);
      }
    }
    if (hits.length === 0) return this.unindexed;
    return mergeSorted(
      hits.sort((a, b) => a - b),
      this.unindexed,
    );
  }
}

/** The lower-cased text's words (its longest runs of letters and digits) of the lengths marked in `lengths`. */
function wordsOf(text: string, lengths: Uint8Array): string[] {
  const words: string[] = [];
  let start = -1;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 32;
    // Beyond ASCII, what is a letter is the regular expression's to say.
    if (c > 127) return text.split(/[^\p{L}\p{N}]+/u).filter((w) => lengths[w.length] === 1);
    const letterOrDigit = (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || (c >= 65 && c <= 90);
    if (letterOrDigit && start < 0) start = i;
    else if (!letterOrDigit && start >= 0) {
      if (lengths[i - start] === 1) words.push(text.slice(start, i));
      start = -1;
    }
  }
  return words;
}

/** "fr-CA" → "fr". */
export function primaryLanguage(language: string): string {
  const l = language.toLowerCase();
  const dash = l.indexOf('-');
  return dash < 0 ? l : l.slice(0, dash);
}

/** Two ascending lists of indices as one, without repeats. */
function mergeSorted(a: number[], b: number[]): number[] {
  if (b.length === 0) return a;
  const out: number[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length || j < b.length) {
    const next = j >= b.length || (i < a.length && a[i]! <= b[j]!) ? a[i++]! : b[j++]!;
    if (out.at(-1) !== next) out.push(next);
  }
  return out;
}
