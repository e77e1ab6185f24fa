import { describe, expect, it } from 'vitest';
import { waitInWords } from './wait';

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

describe('a wait in words', () => {
  it('says minutes, then hours from two hours, then days from two days', () => {
    expect(waitInWords(MINUTE)).toBe('1 minute');
    expect(waitInWords(90 * MINUTE)).toBe('90 minutes');
    expect(waitInWords(119 * MINUTE)).toBe('119 minutes');
    expect(waitInWords(2 * HOUR)).toBe('2 hours');
    expect(waitInWords(4 * HOUR)).toBe('4 hours');
    expect(waitInWords(47 * HOUR)).toBe('47 hours');
    expect(waitInWords(2 * DAY)).toBe('2 days');
    expect(waitInWords(3 * DAY)).toBe('3 days');
  });

  it('is never less than one of its smallest unit', () => {
    expect(waitInWords(0)).toBe('1 minute');
    expect(waitInWords(10 * SECOND)).toBe('1 minute');
    expect(waitInWords(-5 * MINUTE)).toBe('1 minute');
    expect(waitInWords(0, { smallest: 'second' })).toBe('1 second');
  });

  it('says one in the singular and every other count in the plural', () => {
    expect(waitInWords(SECOND, { smallest: 'second' })).toBe('1 second');
    expect(waitInWords(2 * SECOND, { smallest: 'second' })).toBe('2 seconds');
    expect(waitInWords(MINUTE, { roundUp: true, largest: 'minute' })).toBe('1 minute');
    expect(waitInWords(2 * MINUTE)).toBe('2 minutes');
    expect(waitInWords(65 * SECOND, { approximate: true })).toBe('about 1 minute');
    expect(waitInWords(2 * MINUTE, { approximate: true })).toBe('about 2 minutes');
  });

  it('says seconds below two minutes when asked to', () => {
    expect(waitInWords(30 * SECOND, { smallest: 'second' })).toBe('30 seconds');
    expect(waitInWords(119 * SECOND, { smallest: 'second' })).toBe('119 seconds');
    expect(waitInWords(2 * MINUTE, { smallest: 'second' })).toBe('2 minutes');
    expect(waitInWords(3 * HOUR, { smallest: 'second' })).toBe('3 hours');
  });

  it('rounds up when asked to, so a retry is never too early', () => {
    expect(waitInWords(61 * SECOND)).toBe('1 minute');
    expect(waitInWords(61 * SECOND, { roundUp: true })).toBe('2 minutes');
    expect(waitInWords(59 * MINUTE + 1, { roundUp: true })).toBe('60 minutes');
  });

  it('stays in the largest unit it is given', () => {
    expect(waitInWords(DAY, { largest: 'minute' })).toBe('1440 minutes');
    expect(waitInWords(3 * DAY, { largest: 'hour' })).toBe('72 hours');
  });

  it('rounds each unit from the one below it', () => {
    expect(waitInWords(149 * MINUTE + 40 * SECOND)).toBe('3 hours');
    expect(waitInWords(149 * MINUTE)).toBe('2 hours');
  });

  describe('approximate, as a caller hears an estimate', () => {
    it('says less than a minute, about so many minutes, then hours in halves', () => {
      expect(waitInWords(20 * SECOND, { approximate: true })).toBe('less than a minute');
      expect(waitInWords(180 * SECOND, { approximate: true })).toBe('about 3 minutes');
      expect(waitInWords(59 * MINUTE, { approximate: true })).toBe('about 59 minutes');
      expect(waitInWords(HOUR, { approximate: true })).toBe('about an hour');
      expect(waitInWords(100 * MINUTE, { approximate: true })).toBe('about 1.5 hours');
      expect(waitInWords(2 * HOUR, { approximate: true })).toBe('about 2 hours');
    });
  });
});
