import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { InvalidNumberError, keywordOf, positionInWords, splitBody, toE164, waitInWords } from '../src/sms';

describe('numbers', () => {
  it('normalises to E.164, with a default country for national numbers', () => {
    expect(toE164('(415) 555-0100', 'From', 'US')).toBe('+14155550100');
    expect(toE164('+44 20 7946 0958', 'From', 'US')).toBe('+442079460958');
    expect(toE164('030 901820', 'From', 'DE')).toBe('+4930901820');
    expect(() => toE164('hello', 'From', 'US')).toThrow(InvalidNumberError);
    expect(() => toE164('+999', 'To', 'US')).toThrow('To "+999" is not a valid phone number');
  });

  it('either returns E.164 or throws InvalidNumberError, for any input', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.stringMatching(/^\+?[0-9 ()-]{0,20}$/)), (input) => {
        try {
          expect(toE164(input, 'From', 'US')).toMatch(/^\+[1-9][0-9]{6,14}$/);
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidNumberError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('keywords', () => {
  it('recognises the carrier keywords and nothing else', () => {
    expect(['STOP', 'stop', ' Unsubscribe ', 'cancel.', 'QUIT'].map(keywordOf)).toEqual(['stop', 'stop', 'stop', 'stop', 'stop']);
    expect(['START', 'unstop', 'yes'].map(keywordOf)).toEqual(['start', 'start', 'start']);
    expect(keywordOf('help')).toBe('help');
    expect(keywordOf('please stop calling me')).toBeUndefined();
  });
});

describe('length', () => {
  it('splits long bodies into parts of at most 1,600 characters without losing or breaking characters', () => {
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom('a', ' ', '🚨', 'é', 'x'), minLength: 0, maxLength: 5000 }), (body) => {
        const parts = splitBody(body);
        expect(parts.every((p) => p.length <= 1600 && p.length > 0)).toBe(true);
        expect(parts.join('').replace(/\s/g, '')).toBe(body.replace(/\s/g, ''));
        expect(parts.some((p) => /[\uD800-\uDBFF]$|^[\uDC00-\uDFFF]/.test(p))).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('words for callers', () => {
  it('says waits and positions as a person would', () => {
    expect(waitInWords(20_000)).toBe('less than a minute');
    expect(waitInWords(65_000)).toBe('about 1 minute');
    expect(waitInWords(180_000)).toBe('about 3 minutes');
    expect(waitInWords(3_600_000)).toBe('about an hour');
    expect(positionInWords(1)).toBe('You are next in line.');
    expect(positionInWords(2)).toBe('There is 1 caller ahead of you.');
  });
});
