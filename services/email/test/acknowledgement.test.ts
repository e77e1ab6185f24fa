import { describe, expect, it } from 'vitest';
import { Calendars } from '#libs/calendars';
import { acknowledgement } from '../src/messages';
import type { NormalisedMail } from '../src/normalise';
import type { ThreadDecision } from '../src/threading';

const H = 3_600_000;
const thread: ThreadDecision = { conversationId: 'conv-ack-1', reference: 'K7Q2XM', isNew: true, how: 'new' };
const mail = { senderAddress: 'ana@example.com' } as NormalisedMail;
const week = ['09:00-17:00'];
const calendars = new Calendars({
  'tier1/*/email': { zone: 'Europe/Paris', hours: { mon: week, tue: week, wed: week, thu: week, fri: week } },
});
const ack = (at: number, cal: Calendars | null = calendars) => acknowledgement(thread, mail, 4 * H, new Date(at), cal?.status('tier1/general/email', at));

describe('the first acknowledgement says whether we are open', () => {
  it('while open: the aim, with no second message promised', () => {
    // Monday 2026-01-05 10:00 in Paris (09:00 UTC).
    const message = ack(Date.UTC(2026, 0, 5, 9, 0));
    expect(message.text).toContain('We aim to answer within 4 hours. ');
    expect(message.text).not.toMatch(/closed|second message/);
    expect(message.closedUntil).toBeUndefined();
  });

  it('while closed: when we open again, in the queue zone', () => {
    // Friday 2026-01-09 19:00 in Paris: open again Monday 09:00 Paris (08:00 UTC).
    const message = ack(Date.UTC(2026, 0, 9, 18, 0));
    expect(message.text).toContain('We are closed now; we open again Monday at 09:00 (Europe/Paris) and aim to answer within 4 hours of opening. ');
    expect(message.closedUntil).toEqual(new Date(Date.UTC(2026, 0, 12, 8, 0)));
  });

  it('a calendar that never opens says so', () => {
    const never = new Calendars({ '*/*/*': { zone: 'UTC', hours: {} } });
    expect(ack(Date.UTC(2026, 0, 5, 9, 0), never).text).toContain('We are closed now and no opening is planned yet');
  });

  it('without calendars: the business-time aim and the second message, as before', () => {
    expect(ack(Date.UTC(2026, 0, 5, 9, 0), null).text).toContain(
      'We aim to answer within 4 hours of our opening hours; if we are closed now, a second message tells you when we open again. ',
    );
  });
});
