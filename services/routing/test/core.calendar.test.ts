import { describe, expect, it } from 'vitest';
import { afterBusinessMs, businessMs, type Calendar, hoursInWords, instantOf, isOpen, nextOpening, openingInWords } from '#libs/calendars';
import { CalendarError, Calendars, parseCalendars } from '#libs/calendars';

const H = 3_600_000;
const paris: Calendar = {
  zone: 'Europe/Paris',
  hours: {
    mon: ['09:00-12:00', '13:00-18:00'],
    tue: ['09:00-12:00', '13:00-18:00'],
    wed: ['09:00-12:00', '13:00-18:00'],
    thu: ['09:00-12:00', '13:00-18:00'],
    fri: ['09:00-12:00', '13:00-18:00'],
  },
  holidays: ['2025-12-25'],
  exceptions: { '2025-12-24': ['09:00-12:00'], '2025-12-27': ['10:00-14:00'] },
};
const at = (iso: string) => Date.parse(iso);

describe('calendar', () => {
  it('is open in a range, closed at lunch, at night and at the weekend (in the zone, not UTC)', () => {
    // 2025-06-02 is a Monday; Paris is UTC+2 in summer.
    expect(isOpen(paris, at('2025-06-02T07:00:00Z'))).toBe(true); // 09:00 local
    expect(isOpen(paris, at('2025-06-02T06:59:59Z'))).toBe(false);
    expect(isOpen(paris, at('2025-06-02T10:30:00Z'))).toBe(false); // 12:30 local
    expect(isOpen(paris, at('2025-06-02T16:00:00Z'))).toBe(false); // 18:00 local, end exclusive
    expect(isOpen(paris, at('2025-06-07T10:00:00Z'))).toBe(false); // Saturday
  });

  it('finds the next opening: after lunch, the next morning, Monday after the weekend', () => {
    expect(nextOpening(paris, at('2025-06-02T10:30:00Z'))).toBe(at('2025-06-02T11:00:00Z'));
    expect(nextOpening(paris, at('2025-06-02T17:00:00Z'))).toBe(at('2025-06-03T07:00:00Z'));
    expect(nextOpening(paris, at('2025-06-06T17:00:00Z'))).toBe(at('2025-06-09T07:00:00Z'));
    expect(nextOpening(paris, at('2025-06-02T08:00:00Z'))).toBe(at('2025-06-02T08:00:00Z')); // open: now
    expect(nextOpening({ zone: 'UTC', hours: {} }, 0)).toBeUndefined();
  });

  it('keeps holidays closed and exceptions to their own hours', () => {
    // Paris is UTC+1 in winter. 24 Dec: mornings only; 25 Dec (Thursday): closed; 27 Dec (Saturday): 10-14.
    expect(isOpen(paris, at('2025-12-24T10:00:00Z'))).toBe(true);
    expect(isOpen(paris, at('2025-12-24T13:00:00Z'))).toBe(false);
    expect(nextOpening(paris, at('2025-12-24T13:00:00Z'))).toBe(at('2025-12-26T08:00:00Z'));
    expect(isOpen(paris, at('2025-12-27T09:30:00Z'))).toBe(true);
  });

  it('follows daylight-saving changes: 09:00 local is 08:00 UTC before, 07:00 UTC after', () => {
    // Paris springs forward on Sunday 2025-03-30.
    expect(nextOpening(paris, at('2025-03-28T18:00:00Z'))).toBe(at('2025-03-31T07:00:00Z'));
    expect(nextOpening(paris, at('2025-03-27T18:00:00Z'))).toBe(at('2025-03-28T08:00:00Z'));
    // Over the weekend of the change no open time passes.
    expect(businessMs(paris, at('2025-03-28T17:00:00Z'), at('2025-03-31T07:00:00Z'))).toBe(0);
    // A 24-hour calendar's Sunday of the change is 23 hours long, its autumn Sunday 25.
    const always: Calendar = { zone: 'Europe/Paris', hours: { sun: ['00:00-24:00'] } };
    expect(businessMs(always, at('2025-03-29T00:00:00Z'), at('2025-04-01T00:00:00Z'))).toBe(23 * H);
    expect(businessMs(always, at('2025-10-25T00:00:00Z'), at('2025-10-28T00:00:00Z'))).toBe(25 * H);
    // A local time in the gap moves forward by the gap; a repeated one is its first occurrence.
    expect(instantOf('Europe/Paris', { year: 2025, month: 3, day: 30 }, 150)).toBe(at('2025-03-30T01:30:00Z'));
    expect(instantOf('Europe/Paris', { year: 2025, month: 10, day: 26 }, 150)).toBe(at('2025-10-26T00:30:00Z'));
  });

  it('counts business time only, and finds when an amount of it has passed', () => {
    // Friday 17:00 local to Monday 10:00 local: 1 h on Friday + 1 h on Monday.
    expect(businessMs(paris, at('2025-06-06T15:00:00Z'), at('2025-06-09T08:00:00Z'))).toBe(2 * H);
    expect(afterBusinessMs(paris, at('2025-06-06T15:00:00Z'), 2 * H)).toBe(at('2025-06-09T08:00:00Z'));
    // A 4-hour target from 11:00 on a Monday: 1 h before lunch, 3 h after it.
    expect(afterBusinessMs(paris, at('2025-06-02T09:00:00Z'), 4 * H)).toBe(at('2025-06-02T14:00:00Z'));
    expect(businessMs(paris, 10, 5)).toBe(0);
  });

  it('says the opening and the hours in words', () => {
    expect(openingInWords(paris, at('2025-06-09T07:00:00Z'), at('2025-06-06T17:00:00Z'))).toBe('Monday at 09:00');
    expect(openingInWords(paris, at('2025-06-03T07:00:00Z'), at('2025-06-02T17:00:00Z'))).toBe('tomorrow at 09:00');
    expect(openingInWords(paris, at('2025-06-02T11:00:00Z'), at('2025-06-02T10:30:00Z'))).toBe('today at 13:00');
    expect(hoursInWords(paris)).toBe('Monday to Friday 09:00 to 12:00 and 13:00 to 18:00');
  });

  it('supports night shifts as two ranges, one each side of midnight', () => {
    const nights: Calendar = { zone: 'UTC', hours: { mon: ['22:00-24:00'], tue: ['00:00-06:00'] } };
    expect(isOpen(nights, at('2025-06-02T23:59:00Z'))).toBe(true);
    expect(isOpen(nights, at('2025-06-03T00:00:00Z'))).toBe(true);
    expect(businessMs(nights, at('2025-06-02T20:00:00Z'), at('2025-06-03T12:00:00Z'))).toBe(8 * H);
  });
});

describe('calendar set', () => {
  it('gives each queue its most specific calendar, none to others', () => {
    const utc: Calendar = { zone: 'UTC', hours: {} };
    const c = new Calendars({ '*/*/*': utc, 'tier1/billing/*': paris });
    expect(c.of('tier1/billing/email')).toBe(paris);
    expect(c.of('tier2/billing/email')).toBe(utc);
    expect(new Calendars({ 'tier1/*/sms': paris }).of('tier1/x/email')).toBeUndefined();
    expect(new Calendars().status('tier1/x/email', 0)).toEqual({ open: true });
  });

  it('refuses a calendar that does not parse, saying what and where', () => {
    const problems = (json: string) => {
      try {
        parseCalendars(json);
      } catch (err) {
        expect(err).toBeInstanceOf(CalendarError);
        return (err as CalendarError).problems;
      }
      throw new Error('parsed');
    };
    expect(problems('{"*/*/*": {"zone": "Europe/Pariss", "hours": {}}}')).toEqual(['calendar "*/*/*": zone "Europe/Pariss" is not a known IANA time zone']);
    expect(problems('{"*/*/*": {"zone": "UTC", "hours": {"mon": ["18:00-09:00"]}}}')).toEqual([
      'calendar "*/*/*" hours.mon: "18:00-09:00" ends before it starts (a range past midnight is two ranges, one each side)',
    ]);
    expect(problems('{"*/*/*": {"zone": "UTC", "hours": {}, "holidays": ["2025-02-30"]}}')).toEqual([
      'calendar "*/*/*": holiday "2025-02-30" is not a date YYYY-MM-DD',
    ]);
    expect(problems('{"*/*/*": {"zone": "UTC", "hours": {"mon": ["09:00-12:00", "11:00-13:00"]}}}')[0]).toContain('overlap');
    expect(problems('{"*/*/*": {"zone": "UTC", "hours": {"mo": ["9-12"]}}}')).toHaveLength(2);
    expect(problems('{"queue": {"zone": "UTC", "hours": {}}}')[0]).toContain('is not a queue pattern');
    expect(problems('[')[0]).toMatch(/^not JSON/);
    expect(parseCalendars(JSON.stringify({ 'tier1/*/*': paris }))).toEqual({ 'tier1/*/*': paris });
  });
});
