import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ChannelName } from '#libs/contact';
import { Classifier, type ClassifyInput } from '../src/core/classify';
import { DEFAULT_POLICY, type ClassificationRule } from '../src/core/policy';

/** Which rules match, read literally: a keyword matches when " keyword " is in the normalised text. */
function reference(rules: ClassificationRule[], input: ClassifyInput): string[] {
  const body = `${input.subject}\n${input.text}`.slice(0, 10_000);
  const lower = ` ${body.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ')} `;
  const language = input.language.toLowerCase().split('-')[0] ?? '';
  return rules
    .filter(({ when: w }) => {
      const keywords = (w.keywords ?? []).map((k) => k.toLowerCase());
      if (w.languages && !w.languages.some((l) => l.toLowerCase() === language)) return false;
      if (w.channels && !w.channels.includes(input.channel)) return false;
      if (keywords.length > 0 && !keywords.some((k) => lower.includes(` ${k} `))) return false;
      return !w.pattern || new RegExp(w.pattern, 'iu').test(body);
    })
    .map((r) => r.id);
}

// Words, phrases, punctuation, case, accents and characters that lower-case to more than a letter.
const KEYWORDS = ['invoice', 'Bill', 'not working', 'sue you', 'e-mail', 'café', 'İstanbul', 'x', '', ' ', 'refund!', 'a  b', 'ß', '42', 'straße'];
const FRAGMENTS = [
  'invoice',
  'INVOICE',
  'bill',
  'billing',
  'not  working',
  'not-working',
  'sue you',
  'e-mail',
  'e mail',
  'café',
  'CAFÉ',
  'İstanbul',
  'istanbul',
  'x',
  '42',
  '!',
  ' ',
  '\n',
  'refund!',
  'a b',
  'ß',
  'STRASSE',
  'straße',
  'hello',
];

const ruleArb = fc.record({
  keywords: fc.option(fc.array(fc.constantFrom(...KEYWORDS), { maxLength: 3 }), { nil: undefined }),
  pattern: fc.option(fc.constantFrom('in.oice', '\\d{2}', '^hello'), { nil: undefined }),
  languages: fc.option(fc.array(fc.constantFrom('en', 'FR', 'de'), { maxLength: 2 }), { nil: undefined }),
  channels: fc.option(fc.array(fc.constantFrom<ChannelName>('voice', 'chat', 'sms', 'email'), { maxLength: 2 }), { nil: undefined }),
  skill: fc.option(fc.constantFrom('billing', 'technical', 'retention'), { nil: undefined }),
  priority: fc.option(fc.integer({ min: 0, max: 20 }), { nil: undefined }),
});

describe('classification by keyword', () => {
  it('matches exactly the rules that the literal reading of them matches', () => {
    fc.assert(
      fc.property(
        fc.array(ruleArb, { maxLength: 8 }),
        fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 8 }),
        fc.constantFrom('', 'Re: bill', 'café'),
        fc.constantFrom('en', 'fr-FR', '', 'DE'),
        fc.constantFrom<ChannelName>('voice', 'chat', 'sms', 'email'),
        (specs, words, subject, language, channel) => {
          const rules: ClassificationRule[] = specs.map((r, i) => ({
            id: `r${i}`,
            when: { keywords: r.keywords, pattern: r.pattern, languages: r.languages, channels: r.channels },
            then: { skill: r.skill, priority: r.priority },
          }));
          const input: ClassifyInput = { subject, text: words.join(' '), language, channel, customerFlags: [] };
          expect(new Classifier({ ...DEFAULT_POLICY, rules }).classify(input).matched).toEqual(reference(rules, input));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('counts a rule once however many of its keywords are in the text', () => {
    const rules: ClassificationRule[] = [{ id: 'billing', when: { keywords: ['invoice', 'bill', 'invoice'] }, then: { skill: 'billing', priority: 2 } }];
    const result = new Classifier({ ...DEFAULT_POLICY, rules }).classify({
      subject: 'bill',
      text: 'invoice invoice',
      language: 'en',
      channel: 'chat',
      customerFlags: [],
    });
    expect(result).toMatchObject({ skill: 'billing', priority: 2, matched: ['billing'] });
  });
});
