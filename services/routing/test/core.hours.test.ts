import { describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind, OutboundKind, Presence, SlaEventKind, Tier } from '#libs/proto';
import type { Calendar } from '#libs/calendars';
import { RoutingEngine, type Effect } from '../src/core/engine';
import { DEFAULT_POLICY, policyWith, type RoutingPolicy } from '../src/core/policy';

const H = 3_600_000;
const officeHours: Calendar = {
  zone: 'UTC',
  hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'], wed: ['09:00-17:00'], thu: ['09:00-17:00'], fri: ['09:00-17:00'] },
};

/** An engine on a fake clock (2026-01-05 is a Monday) with every queue on office hours. */
function setup(start = Date.UTC(2026, 0, 5, 18, 0), calendars: Record<string, Calendar> = { '*/*/*': officeHours }, policy: Partial<RoutingPolicy> = {}) {
  const clock = { t: start, now: () => clock.t };
  const engine = new RoutingEngine(policyWith({ calendars, ...policy }), clock);
  const log: Effect[] = [];
  const keep = (effects: Effect[]) => (log.push(...effects), effects);
  let n = 0;
  const contact = (channel = Channel.CHANNEL_EMAIL, acknowledgedClosedUntil?: Date) => {
    n++;
    keep(
      engine.contactReceived(
        ContactReceived.fromPartial({
          contactId: `m${n}`,
          conversationId: `c${n}`,
          channel,
          kind: ContactKind.CONTACT_KIND_MESSAGE,
          sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `customer${n}@example.com` },
          text: 'hello',
          language: 'en',
          newConversation: true,
          acknowledgedClosedUntil,
        }),
      ),
    );
    return `c${n}`;
  };
  const agent = (id: string, skills: Record<string, number> = { general: 3 }) => {
    keep(engine.registerAgent({ id, name: id, tier: Tier.TIER_FRONT_OFFICE, skills, languages: ['en'] }));
    keep(engine.setPresence(id, Presence.PRESENCE_AVAILABLE));
  };
  const advanceTo = (t: number) => {
    // Ticks as the service does, so timers come due in order.
    while (clock.t < t) {
      clock.t = Math.min(t, clock.t + 60_000);
      keep(engine.tick());
    }
  };
  const offers = (id: string) => log.filter((e) => e.type === 'conversation' && e.event.conversationId === id && e.event.step?.$case === 'offered');
  const sla = (id: string) => log.flatMap((e) => (e.type === 'sla' && e.event.conversationId === id ? [e.event] : []));
  const told = (id: string) => log.flatMap((e) => (e.type === 'outbound' && e.message.conversationId === id ? [e.message] : []));
  return { clock, engine, log, keep, contact, agent, advanceTo, offers, sla, told };
}

describe('opening hours in routing', () => {
  it('sends no closed notice of its own for an opening the email acknowledgement already told, and its own for another', () => {
    // Friday 18:00: open again Monday 09:00.
    const { engine, contact, told } = setup(Date.UTC(2026, 0, 9, 18, 0));
    const monday = new Date(Date.UTC(2026, 0, 12, 9, 0));
    const toldAlready = contact(Channel.CHANNEL_EMAIL, monday);
    expect(told(toldAlready)).toEqual([]);
    expect(engine.conversationState(toldAlready)!.toldClosedUntil).toBe(monday.getTime());
    // The acknowledgement told another opening (its calendars were other hours): routing's notice corrects it.
    const toldOther = contact(Channel.CHANNEL_EMAIL, new Date(Date.UTC(2026, 0, 12, 8, 0)));
    expect(told(toldOther).map((m) => m.text)).toEqual([
      'We are closed now; we open again Monday at 09:00 (UTC) and will answer you then. You are number 2 in the queue.',
    ]);
    // Nothing told: routing's notice, as before.
    expect(told(contact())).toHaveLength(1);
  });

  it('makes no offer while the queue is closed, and offers at opening', () => {
    const { engine, contact, agent, advanceTo, offers } = setup();
    agent('ann');
    const id = contact();
    expect(offers(id)).toHaveLength(0);
    expect(engine.conversationState(id)!.state).toBe('queued');
    // An agent coming free does not pull it either.
    agent('bob');
    advanceTo(Date.UTC(2026, 0, 6, 8, 59));
    expect(offers(id)).toHaveLength(0);
    advanceTo(Date.UTC(2026, 0, 6, 9, 0));
    expect(offers(id)).toHaveLength(1);
  });

  it('tells the customer the queue is closed, when it opens, and a wait that includes the closed time', () => {
    // Friday 18:00: open again Monday 09:00.
    const { engine, contact, told } = setup(Date.UTC(2026, 0, 9, 18, 0));
    const id = contact();
    const [status] = told(id);
    expect(status!.kind).toBe(OutboundKind.OUTBOUND_KIND_STATUS_UPDATE);
    expect(status!.text).toBe('We are closed now; we open again Monday at 09:00 (UTC) and will answer you then. You are number 1 in the queue.');
    expect(status!.closedUntil).toEqual(new Date(Date.UTC(2026, 0, 12, 9, 0)));
    expect(status!.hours).toBe('Monday to Friday 09:00 to 17:00');
    // Nobody staffed: the estimate is the email target (4 h of open time) from the opening.
    const estimate = engine.waitEstimate(id);
    expect(estimate.estimatedWaitMs).toBe(63 * H + 4 * H);
    expect(estimate.closedUntil).toBe(Date.UTC(2026, 0, 12, 9, 0));
    expect(status!.estimatedWaitMs).toBe(estimate.estimatedWaitMs);
  });

  it('counts business time only on the SLA clock', () => {
    // Friday 15:00, email (4 h target): 2 h on Friday, the rest on Monday morning.
    const { contact, advanceTo, sla } = setup(Date.UTC(2026, 0, 9, 15, 0));
    const id = contact();
    advanceTo(Date.UTC(2026, 0, 9, 23, 0));
    expect(sla(id)).toHaveLength(0);
    // Warning at 80 % = 3 h 12 min of open time: Monday 10:12.
    advanceTo(Date.UTC(2026, 0, 12, 10, 11));
    expect(sla(id)).toHaveLength(0);
    advanceTo(Date.UTC(2026, 0, 12, 10, 12));
    expect(sla(id).map((e) => [e.kind, e.elapsedMs])).toEqual([[SlaEventKind.SLA_EVENT_KIND_WARNING, 3.2 * H]]);
    advanceTo(Date.UTC(2026, 0, 12, 11, 0));
    expect(sla(id).map((e) => [e.kind, e.elapsedMs])).toEqual([
      [SlaEventKind.SLA_EVENT_KIND_WARNING, 3.2 * H],
      [SlaEventKind.SLA_EVENT_KIND_BREACH, 4 * H],
    ]);
  });

  it('stops the clock with the business time elapsed: answered Monday morning, met', () => {
    const { clock, engine, contact, agent, advanceTo, keep, sla } = setup(Date.UTC(2026, 0, 9, 16, 0));
    const id = contact();
    agent('ann');
    // Ann was offered it at once (open until 17:00); she accepts and replies on Monday 09:30.
    keep(engine.accept('ann', id));
    advanceTo(Date.UTC(2026, 0, 12, 9, 30));
    clock.t = Date.UTC(2026, 0, 12, 9, 30);
    keep(engine.reply('ann', id, 'Hello').effects);
    expect(sla(id).map((e) => [e.kind, e.elapsedMs])).toEqual([[SlaEventKind.SLA_EVENT_KIND_MET, 1.5 * H]]);
  });

  it('takes a supervisor change at once: held conversations are offered, and the change is a record to keep', () => {
    const { engine, contact, agent, keep, offers } = setup();
    agent('ann');
    const id = contact();
    expect(offers(id)).toHaveLength(0);
    const always: Calendar = { zone: 'Europe/Paris', hours: { mon: ['00:00-24:00'] } };
    keep(engine.setCalendars({ '*/*/*': always }, 'sue'));
    expect(offers(id)).toHaveLength(1);
    expect(engine.hasChanges()).toBe(true);
    expect(engine.takeChanges().calendars).toBe(true);
    const record = engine.calendarsRecord()!;
    expect(record).toMatchObject({ id: 'calendars', set: { '*/*/*': always }, changedBy: 'sue' });
    // A restart restores the supervisor's calendars over the configured ones.
    const restarted = new RoutingEngine(policyWith({ calendars: { '*/*/*': officeHours } }), { now: () => Date.UTC(2026, 0, 5, 18, 0) });
    restarted.restore({ agents: [], conversations: [], customers: [], calendars: JSON.parse(JSON.stringify(record)) as typeof record });
    expect(restarted.calendars).toEqual({ '*/*/*': always });
  });

  it('leaves a queue without a calendar always open', () => {
    const { contact, agent, offers } = setup(Date.UTC(2026, 0, 5, 18, 0), { 'tier1/*/voice': officeHours });
    agent('ann');
    expect(offers(contact(Channel.CHANNEL_EMAIL))).toHaveLength(1);
  });

  describe('step timers on business time', () => {
    const M = 60_000;
    // Ten minutes a step, so a step can straddle the closing; only the whole tier reaches Ola (no general skill).
    const steps = { stepTimeoutMs: { ...DEFAULT_POLICY.stepTimeoutMs, skilled: 10 * M, anyLevel: 10 * M } };
    const stepOf = (engine: RoutingEngine, id: string) => {
      const conv = engine.conversationState(id)!;
      return conv.steps[conv.stepIndex];
    };

    it('a step running at the closing widens at the same open-time offset after the opening', () => {
      // Monday 16:55: 5 min of the skilled step before 17:00, the other 5 min on Tuesday from 09:00.
      const { engine, contact, agent, advanceTo, offers } = setup(Date.UTC(2026, 0, 5, 16, 55), { '*/*/*': officeHours }, steps);
      agent('ola', { retention: 3 });
      const id = contact();
      expect(stepOf(engine, id)).toBe(3);
      advanceTo(Date.UTC(2026, 0, 6, 9, 4));
      // As on the clock the step would have widened twice overnight; in open time it has not yet.
      expect(stepOf(engine, id)).toBe(3);
      expect(offers(id)).toHaveLength(0);
      advanceTo(Date.UTC(2026, 0, 6, 9, 5));
      expect(stepOf(engine, id)).toBe(4);
      expect(engine.conversationState(id)!.stepSince).toBe(Date.UTC(2026, 0, 6, 9, 5));
      advanceTo(Date.UTC(2026, 0, 6, 9, 14));
      expect(offers(id)).toHaveLength(0);
      advanceTo(Date.UTC(2026, 0, 6, 9, 15));
      expect(stepOf(engine, id)).toBe(5);
      expect(offers(id).map((e) => (e.type === 'conversation' ? e.event.reason?.targetStep : undefined))).toEqual([5]);
    });

    it('a conversation that arrives while closed starts its steps at the opening', () => {
      const { engine, contact, agent, advanceTo, offers } = setup(Date.UTC(2026, 0, 5, 18, 0), { '*/*/*': officeHours }, steps);
      agent('ola', { retention: 3 });
      const id = contact();
      advanceTo(Date.UTC(2026, 0, 6, 9, 9));
      expect(stepOf(engine, id)).toBe(3);
      advanceTo(Date.UTC(2026, 0, 6, 9, 10));
      expect(stepOf(engine, id)).toBe(4);
      advanceTo(Date.UTC(2026, 0, 6, 9, 19));
      expect(offers(id)).toHaveLength(0);
      advanceTo(Date.UTC(2026, 0, 6, 9, 20));
      expect(offers(id)).toHaveLength(1);
    });

    it('a supervisor closing the queue mid-step holds the step until the open time is up', () => {
      // Monday 10:00, open; at 10:04 the day's hours are cut to end at 10:05, so 5 min remain for Tuesday.
      const { clock, engine, contact, agent, advanceTo, keep } = setup(Date.UTC(2026, 0, 5, 10, 0), { '*/*/*': officeHours }, steps);
      agent('ola', { retention: 3 });
      const id = contact();
      advanceTo(Date.UTC(2026, 0, 5, 10, 4));
      clock.t = Date.UTC(2026, 0, 5, 10, 4);
      keep(engine.setCalendars({ '*/*/*': { ...officeHours, exceptions: { '2026-01-05': ['09:00-10:05'] } } }, 'sue'));
      advanceTo(Date.UTC(2026, 0, 6, 9, 4));
      expect(stepOf(engine, id)).toBe(3);
      advanceTo(Date.UTC(2026, 0, 6, 9, 5));
      expect(stepOf(engine, id)).toBe(4);
    });
  });
});
