import { describe, expect, it } from 'vitest';
import { CalendarsChanged } from '#libs/proto';
import { readCalendarRecords } from '../src/calendar-records';

const paris = { zone: 'Europe/Paris', hours: { mon: ['09:00-18:00'] } };
const record = (key: string, json: string, by = 'sup-1', at = 1000) => ({
  key,
  value: Buffer.from(CalendarsChanged.encode(CalendarsChanged.fromPartial({ calendarsJson: json, changedBy: by, changedAt: new Date(at) })).finish()),
});

describe('the calendars the acknowledgement follows', () => {
  it('takes the last valid record of its own routing deployment, in order', () => {
    const read = readCalendarRecords(
      [
        record('routing', JSON.stringify({ 'tier1/*/*': { ...paris, hours: { tue: ['09:00-12:00'] } } }), 'sup-1', 1000),
        record('other-centre', JSON.stringify({ 'tier1/*/*': { zone: 'Asia/Tokyo', hours: {} } }), 'sup-9', 3000),
        record('routing', JSON.stringify({ 'tier1/*/*': paris }), 'sup-2', 2000),
      ],
      'routing',
    );
    expect(read).toEqual({ latest: { set: { 'tier1/*/*': paris }, by: 'sup-2', at: 2000 }, ignored: [] });
    expect(readCalendarRecords([record('other-centre', '{}')], 'routing')).toEqual({ ignored: [] });
  });

  it('ignores, saying why, a record that does not decode or whose calendars do not parse; the hours before it stay', () => {
    const read = readCalendarRecords(
      [
        record('routing', JSON.stringify({ 'tier1/*/*': paris }), 'sup-1', 1000),
        { key: 'routing', value: Buffer.from([0xff, 0xff, 0xff, 0xff]) },
        record('routing', JSON.stringify({ 'tier1/*/*': { zone: 'Europe/Pariss', hours: {} } })),
        record('routing', 'not json'),
      ],
      'routing',
    );
    expect(read.latest).toEqual({ set: { 'tier1/*/*': paris }, by: 'sup-1', at: 1000 });
    expect(read.ignored).toHaveLength(3);
    expect(read.ignored[0]).toMatch(/^the record does not decode as CalendarsChanged/);
    expect(read.ignored[1]).toContain('zone "Europe/Pariss" is not a known IANA time zone');
    expect(read.ignored[2]).toContain('not JSON');
  });

  it('goes back to the configured hours on a tombstone', () => {
    expect(readCalendarRecords([record('routing', JSON.stringify({ 'tier1/*/*': paris })), { key: 'routing', value: null }], 'routing').latest).toBeNull();
  });
});
