import { describe, expect, it } from 'vitest';
import { CallbackOutcome, Channel, ContactKind, ContactReceived, IdentityKind, OutboundKind, Presence, Tier } from '#libs/proto';
import type { Calendar } from '#libs/calendars';
import { afterAttempt, bookedText, callbackOffer, newCallback, retrySchedule } from '../src/core/callback-rules';
import { contactProblem } from '../src/core/contact-check';
import { RoutingEngine, type Effect } from '../src/core/engine';
import { policyWith } from '../src/core/policy';

const MIN = 60_000;
const CALLER = '+33612345678';
const officeHours: Calendar = { zone: 'UTC', hours: { mon: ['09:00-17:00'], tue: ['09:00-17:00'] } };

function callContact(id: string, conversationId: string, kind: ContactKind, number = CALLER) {
  return ContactReceived.fromPartial({
    contactId: id,
    conversationId,
    channel: Channel.CHANNEL_VOICE,
    kind,
    sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: number },
    channelMetadata: kind === ContactKind.CONTACT_KIND_CALLBACK_REQUEST ? { 'callback-number': number } : {},
    newConversation: kind === ContactKind.CONTACT_KIND_CALL,
  });
}

/** An engine on a fake clock (2026-01-05 is a Monday, 10:00) that keeps every effect. */
function setup(calendars: Record<string, Calendar> = {}, start = Date.UTC(2026, 0, 5, 10, 0)) {
  const clock = { t: start, now: () => clock.t };
  const engine = new RoutingEngine(policyWith({ calendars, callbackRetryIntervalMs: 5 * MIN, callbackMaxAttempts: 3 }), clock);
  const log: Effect[] = [];
  const keep = (effects: Effect[]) => (log.push(...effects), effects);
  const call = (n: number) => {
    keep(engine.contactReceived(callContact(`call-${n}`, `conv-${n}`, ContactKind.CONTACT_KIND_CALL)));
    return `conv-${n}`;
  };
  const askCallback = (id: string) => keep(engine.contactReceived(callContact(`callback-${id}`, id, ContactKind.CONTACT_KIND_CALLBACK_REQUEST)));
  const agent = (id: string) => {
    keep(engine.registerAgent({ id, name: id, tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'] }));
    keep(engine.setPresence(id, Presence.PRESENCE_AVAILABLE));
  };
  const advance = (ms: number) => {
    const end = clock.t + ms;
    while (clock.t < end) {
      clock.t = Math.min(end, clock.t + 30_000);
      keep(engine.tick());
    }
  };
  const outbound = (id: string, kind: OutboundKind) =>
    log.flatMap((e) => (e.type === 'outbound' && e.message.conversationId === id && e.message.kind === kind ? [e.message] : []));
  const progress = (id: string) =>
    log.flatMap((e) =>
      e.type === 'conversation' && e.event.conversationId === id && e.event.step?.$case === 'callbackProgress' ? [e.event.step.callbackProgress] : [],
    );
  const offeredTo = (id: string) =>
    log.flatMap((e) => (e.type === 'conversation' && e.event.conversationId === id && e.event.step?.$case === 'offered' ? [e.event.step.offered.agentId] : []));
  return { clock, engine, keep, call, askCallback, agent, advance, outbound, progress, offeredTo };
}

describe('callback rules', () => {
  const policy = { callbackRetryIntervalMs: 5 * MIN, callbackMaxAttempts: 3 };

  it('retries unanswered attempts at the interval, up to the limit, then gives up', () => {
    const cb = { ...newCallback(CALLER, 0, 60_000), state: 'dialling' as const, attempts: 1 };
    expect(afterAttempt(cb, CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER, policy, 1000)).toEqual({ next: 'retry', at: 1000 + 5 * MIN });
    expect(afterAttempt({ ...cb, attempts: 2 }, CallbackOutcome.CALLBACK_OUTCOME_BUSY, policy, 0)).toEqual({ next: 'retry', at: 5 * MIN });
    expect(afterAttempt({ ...cb, attempts: 3 }, CallbackOutcome.CALLBACK_OUTCOME_FAILED, policy, 0)).toEqual({ next: 'give-up' });
    expect(afterAttempt({ ...cb, attempts: 3 }, CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, policy, 0)).toEqual({ next: 'connected' });
    expect(retrySchedule(policy, 100)).toEqual([100, 100 + 5 * MIN, 100 + 10 * MIN]);
  });

  it('refuses a callback request whose number is not E.164', () => {
    expect(contactProblem(callContact('x', 'conv-x', ContactKind.CONTACT_KIND_CALLBACK_REQUEST, '0612345678'))).toMatch(/E\.164/);
    expect(contactProblem(callContact('x', 'conv-x', ContactKind.CONTACT_KIND_CALLBACK_REQUEST, '+0612345678'))).toMatch(/callback-number/);
    expect(contactProblem(callContact('x', 'conv-x', ContactKind.CONTACT_KIND_CALLBACK_REQUEST))).toBeUndefined();
  });
});

describe('callbacks in routing', () => {
  it('texts the expected callback time when the callback is booked, and says it in the record', () => {
    const { engine, call, askCallback, outbound, clock } = setup();
    const id = call(1);
    const asked = clock.t;
    askCallback(id);
    const promised = engine.conversationState(id)!.callback!.promisedWaitMs;
    const sms = outbound(id, OutboundKind.OUTBOUND_KIND_STATUS_UPDATE).filter((m) => m.channel === Channel.CHANNEL_SMS);
    expect(sms).toHaveLength(1);
    expect(sms[0]).toMatchObject({ channel: Channel.CHANNEL_SMS, recipient: { value: CALLER }, text: bookedText(newCallback(CALLER, asked, promised)) });
    expect(bookedText(newCallback(CALLER, Date.UTC(2026, 0, 5, 9, 0), 6 * MIN))).toBe(
      'Thank you for your call. We will call you back by Monday 5 January 2026, 09:06 UTC, keeping your place in the queue. Reply STOP to opt out of texts.',
    );
  });

  it("says the callback's times in the queue's calendar zone, naming it, and in UTC without a calendar", () => {
    // Paris is an hour ahead in January; a late promise crosses into the next local day.
    expect(bookedText(newCallback(CALLER, Date.UTC(2026, 0, 5, 22, 50), 20 * MIN, 'Europe/Paris'))).toBe(
      'Thank you for your call. We will call you back by Tuesday 6 January 2026, 00:10 Europe/Paris, keeping your place in the queue. Reply STOP to opt out of texts.',
    );
    const paris: Calendar = { zone: 'Europe/Paris', hours: { mon: ['09:00-18:00'] } };
    const { engine, call, askCallback, outbound } = setup({ 'tier1/*/*': paris }, Date.UTC(2026, 0, 5, 9, 0));
    const id = call(2);
    askCallback(id);
    const cb = engine.conversationState(id)!.callback!;
    expect(cb.zone).toBe('Europe/Paris');
    const sms = outbound(id, OutboundKind.OUTBOUND_KIND_STATUS_UPDATE).find((m) => m.channel === Channel.CHANNEL_SMS)!;
    expect(sms.text).toMatch(/^Thank you for your call\. We will call you back by Monday 5 January 2026, 10:\d\d Europe\/Paris,/);
    expect(callbackOffer(cb, { dateAt: (ms: number) => new Date(ms) })?.zone).toBe('Europe/Paris');
    expect(callbackOffer(newCallback(CALLER, 0, MIN), { dateAt: (ms: number) => new Date(ms) })?.zone).toBe('');
  });

  it('marks an offer as a callback: the number, when it was asked and promised, which attempt', () => {
    const dates = { dateAt: (ms: number) => new Date(ms) };
    const cb = newCallback(CALLER, Date.UTC(2026, 0, 5, 9, 0), 6 * MIN);
    expect(callbackOffer(cb, dates)).toEqual({
      number: CALLER,
      requestedAt: new Date(Date.UTC(2026, 0, 5, 9, 0)),
      promisedBy: new Date(Date.UTC(2026, 0, 5, 9, 6)),
      attempt: 1,
      zone: '',
    });
    expect(callbackOffer({ ...cb, state: 'retry-wait', attempts: 1 }, dates)!.attempt).toBe(2);
    expect(callbackOffer({ ...cb, state: 'gave-up', attempts: 3 }, dates)).toBeUndefined();
    expect(callbackOffer(undefined, dates)).toBeUndefined();
  });

  it('keeps the caller’s place, dials on accept and measures the promise when the customer answers', () => {
    const { engine, keep, call, askCallback, agent, clock, outbound, progress } = setup();
    const first = call(1);
    const second = call(2);
    askCallback(first);
    expect(engine.conversationState(first)!.callback).toMatchObject({ state: 'waiting', number: CALLER });
    expect(progress(first)[0]).toMatchObject({ outcome: CallbackOutcome.CALLBACK_OUTCOME_REQUESTED, attempt: 0 });
    expect(progress(first)[0]!.promisedWaitMs).toBeGreaterThan(0);
    // The callback keeps its place: first in the queue, ahead of the caller still holding.
    expect(engine.waitEstimate(first).position).toBe(1);
    expect(engine.waitEstimate(second).position).toBe(2);
    agent('ann');
    keep(engine.accept('ann', first));
    expect(outbound(first, OutboundKind.OUTBOUND_KIND_CONNECT_CALL)).toHaveLength(0);
    const [dial] = outbound(first, OutboundKind.OUTBOUND_KIND_CALLBACK);
    expect(dial).toMatchObject({ agentId: 'ann', recipient: { value: CALLER }, channelMetadata: { 'callback-attempt': '1' } });
    clock.t += 20_000;
    keep(engine.callbackAttempted(first, CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, 1));
    const answered = progress(first).at(-1)!;
    expect(answered).toMatchObject({ outcome: CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, attempt: 1, waitedMs: 20_000 });
    expect(engine.ewtAccuracy(engine.conversationState(first)!.queue).samples).toBe(1);
    expect(engine.conversationState(first)).toMatchObject({ state: 'assigned', agentId: 'ann', callback: { state: 'connected' } });
  });

  it('retries an unanswered callback after the interval, then connects', () => {
    const { engine, keep, call, askCallback, agent, advance, outbound, progress, offeredTo } = setup();
    const id = call(1);
    askCallback(id);
    agent('ann');
    keep(engine.accept('ann', id));
    keep(engine.callbackAttempted(id, CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER, 1));
    // A repeat of the report changes nothing.
    keep(engine.callbackAttempted(id, CallbackOutcome.CALLBACK_OUTCOME_NO_ANSWER, 1));
    expect(progress(id).at(-1)).toMatchObject({ outcome: CallbackOutcome.CALLBACK_OUTCOME_RETRY_SCHEDULED, attempt: 1 });
    expect(engine.conversationState(id)).toMatchObject({ state: 'queued', callback: { state: 'retry-wait', attempts: 1 } });
    expect(engine.agents.get('ann')!.active).toEqual([]);
    advance(4 * MIN);
    expect(offeredTo(id)).toHaveLength(1);
    advance(MIN);
    expect(offeredTo(id)).toHaveLength(2);
    keep(engine.accept('ann', id));
    expect(outbound(id, OutboundKind.OUTBOUND_KIND_CALLBACK).map((m) => m.channelMetadata['callback-attempt'])).toEqual(['1', '2']);
    keep(engine.callbackAttempted(id, CallbackOutcome.CALLBACK_OUTCOME_ANSWERED, 2));
    expect(engine.conversationState(id)!.callback!.state).toBe('connected');
  });

  it('gives up after the last attempt: an SMS to the customer and a record on the conversation', () => {
    const { engine, keep, call, askCallback, agent, advance, outbound, progress } = setup();
    const id = call(1);
    askCallback(id);
    agent('ann');
    for (let attempt = 1; attempt <= 3; attempt++) {
      keep(engine.accept('ann', id));
      keep(engine.callbackAttempted(id, CallbackOutcome.CALLBACK_OUTCOME_BUSY, attempt));
      advance(5 * MIN);
    }
    expect(progress(id).at(-1)).toMatchObject({ outcome: CallbackOutcome.CALLBACK_OUTCOME_GAVE_UP, attempt: 3 });
    const sms = outbound(id, OutboundKind.OUTBOUND_KIND_STATUS_UPDATE)
      .filter((m) => m.channel === Channel.CHANNEL_SMS)
      .at(-1);
    expect(sms).toMatchObject({ recipient: { value: CALLER }, text: expect.stringContaining('3 times') });
    expect(engine.conversationState(id)!.state).toBe('abandoned');
  });

  it('defers a callback asked while closed to the opening', () => {
    // Monday 18:00: open again Tuesday 09:00.
    const { engine, keep, call, askCallback, agent, advance, offeredTo, progress } = setup({ '*/*/*': officeHours }, Date.UTC(2026, 0, 5, 18, 0));
    const id = call(1);
    askCallback(id);
    // The promise counts the closed time: at least the 15 hours until the opening.
    expect(progress(id)[0]!.promisedWaitMs).toBeGreaterThanOrEqual(15 * 60 * MIN);
    agent('ann');
    advance(14 * 60 * MIN);
    expect(offeredTo(id)).toHaveLength(0);
    advance(60 * MIN);
    expect(offeredTo(id)).toEqual(['ann']);
    keep(engine.accept('ann', id));
  });
});
