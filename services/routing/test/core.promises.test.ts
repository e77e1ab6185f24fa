import { describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind, OutboundKind, Presence, PromiseProgress, Tier } from '#libs/proto';
import { RoutingEngine, RoutingError, type Effect } from '../src/core/engine';
import { policyWith } from '../src/core/policy';
import { asksStatus, checkPromise, costInWords, dateInWords } from '../src/core/promise-rules';

const HOUR = 3600_000;
const DAY = 24 * HOUR;
const START = Date.UTC(2026, 0, 5, 10, 0);

function sms(id: string, conversationId: string, text: string, first = false) {
  return ContactReceived.fromPartial({
    contactId: id,
    conversationId,
    channel: Channel.CHANNEL_SMS,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+33612345678' },
    subject: first ? 'Washing machine repair' : '',
    text,
    newConversation: first,
  });
}

/** An engine on a fake clock with one agent holding one SMS conversation, and every effect kept. */
function setup() {
  const clock = { t: START, now: () => clock.t };
  const engine = new RoutingEngine(policyWith({ promiseWarningLeadMs: 4 * HOUR, promiseSupervisors: ['sue'] }), clock);
  const log: Effect[] = [];
  const keep = <T extends Effect[] | { effects: Effect[] }>(r: T): T => (log.push(...(Array.isArray(r) ? r : r.effects)), r);
  keep(engine.registerAgent({ id: 'ann', name: 'Ann', tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'] }));
  keep(engine.setPresence('ann', Presence.PRESENCE_AVAILABLE));
  keep(engine.contactReceived(sms('c1', 'conv-1', 'My washing machine leaks', true)));
  keep(engine.accept('ann', 'conv-1'));
  const advance = (ms: number) => {
    const end = clock.t + ms;
    while (clock.t < end) {
      clock.t = Math.min(end, clock.t + HOUR);
      keep(engine.tick());
    }
  };
  const texts = () => log.flatMap((e) => (e.type === 'outbound' && e.message.kind === OutboundKind.OUTBOUND_KIND_STATUS_UPDATE ? [e.message.text] : []));
  const progress = () => log.flatMap((e) => (e.type === 'conversation' && e.event.step?.$case === 'promise' ? [e.event.step.promise.progress] : []));
  const notes = (agentId: string) =>
    log.flatMap((e) => (e.type === 'notify' && e.agentId === agentId && e.update.update?.$case === 'noted' ? [e.update.update.noted.note!.text] : []));
  const ann = { id: 'ann', supervisor: false };
  const promise = (dueAt: number, more: { costMinor?: number; currency?: string; milestone?: string } = {}) =>
    keep(
      engine.setPromise(ann, 'conv-1', {
        milestone: more.milestone ?? 'the spare part is ordered',
        dueAt,
        costMinor: more.costMinor ?? 0,
        currency: more.currency ?? '',
      }),
    );
  return { clock, engine, keep, advance, texts, progress, notes, ann, promise };
}

describe('promise rules', () => {
  const ok = { milestone: 'technician visit', dueAt: START + DAY, costMinor: 0, currency: '' };

  it('refuses a date in the past, a long milestone and a cost without its currency, each with its reason', () => {
    expect(() => checkPromise({ ...ok, dueAt: START - 1 }, START)).toThrow(/2026-01-05T09:59:59.999Z is in the past/);
    expect(() => checkPromise({ ...ok, dueAt: START }, START)).toThrow(/in the past/);
    expect(() => checkPromise({ ...ok, dueAt: undefined }, START)).toThrow(/due_at is required/);
    expect(() => checkPromise({ ...ok, dueAt: START + 400 * DAY }, START)).toThrow(/more than a year/);
    expect(() => checkPromise({ ...ok, milestone: 'x'.repeat(201) }, START)).toThrow(/longer than 200/);
    expect(() => checkPromise({ ...ok, milestone: '  ' }, START)).toThrow(/milestone is empty/);
    expect(() => checkPromise({ ...ok, milestone: 'a\u0007b' }, START)).toThrow(/control characters/);
    expect(() => checkPromise({ ...ok, costMinor: 12000 }, START)).toThrow(/needs its currency/);
    expect(() => checkPromise({ ...ok, costMinor: 12000, currency: 'euro' }, START)).toThrow(/not an ISO 4217 code/);
    expect(() => checkPromise({ ...ok, costMinor: -5, currency: 'EUR' }, START)).toThrow(/0 or more/);
    expect(() => checkPromise({ ...ok, currency: 'EUR' }, START)).toThrow(/without a cost/);
    expect(checkPromise({ ...ok, milestone: ' visit ', costMinor: 12050, currency: 'eur' }, START)).toEqual({
      ...ok,
      milestone: 'visit',
      costMinor: 12050,
      currency: 'EUR',
    });
  });

  it('says dates and costs the same way on every machine', () => {
    expect(dateInWords(Date.UTC(2026, 11, 4, 15, 0))).toBe('Friday 4 December 2026, 15:00 UTC');
    expect(costInWords(12050, 'EUR')).toBe('120.50 EUR');
    expect(costInWords(5000, 'JPY')).toBe('5000 JPY');
  });

  it('takes just the word "status" as the question', () => {
    expect(['status', ' Status ', 'STATUS?', 'status.'].every(asksStatus)).toBe(true);
    expect(['status please', 'what is the status', 'statuses', ''].some(asksStatus)).toBe(false);
  });
});

describe('promises in routing', () => {
  it('sends the customer each promise and update as a status message on their channel', () => {
    const { engine, texts, progress, promise } = setup();
    const due = START + 3 * DAY;
    const { text } = promise(due, { costMinor: 12050, currency: 'EUR' });
    expect(text).toBe(
      'Where we are with your case "Washing machine repair": next step: the spare part is ordered, expected by Thursday 8 January 2026, 10:00 UTC. Estimated cost: 120.50 EUR.',
    );
    expect(texts()).toEqual([text]);
    promise(due + DAY, { milestone: 'the technician visits' });
    expect(texts()[1]).toMatch(/^Update on your case .*the technician visits, expected by Friday 9 January 2026/);
    expect(texts()[1]).not.toMatch(/cost/);
    expect(progress()).toEqual([PromiseProgress.PROMISE_PROGRESS_SET, PromiseProgress.PROMISE_PROGRESS_UPDATED]);
    expect(engine.conversationState('conv-1')!.promise).toMatchObject({ state: 'open', version: 2, ownerId: 'ann' });
  });

  it('refuses a bad promise and sends nothing', () => {
    const { engine, texts, clock } = setup();
    const ann = { id: 'ann', supervisor: false };
    expect(() => engine.setPromise(ann, 'conv-1', { milestone: 'visit', dueAt: clock.t - HOUR, costMinor: 0, currency: '' })).toThrow(RoutingError);
    expect(() =>
      engine.setPromise({ id: 'bob', supervisor: false }, 'conv-1', { milestone: 'visit', dueAt: clock.t + HOUR, costMinor: 0, currency: '' }),
    ).toThrow(/only the agent holding/);
    expect(engine.tick()).toEqual([]);
    expect(texts()).toEqual([]);
    expect(engine.conversationState('conv-1')!.promise).toBeUndefined();
  });

  it('answers "status" with the current promise; the message still reaches the agent', () => {
    const { keep, engine, texts, progress, promise } = setup();
    promise(START + 2 * DAY);
    const effects = keep(engine.contactReceived(sms('c2', 'conv-1', 'Status')));
    expect(texts().at(-1)).toBe(
      'Status of your case "Washing machine repair": next step: the spare part is ordered, expected by Wednesday 7 January 2026, 10:00 UTC.',
    );
    expect(progress().at(-1)).toBe(PromiseProgress.PROMISE_PROGRESS_ASKED);
    expect(effects.some((e) => e.type === 'notify' && e.update.update?.$case === 'customerMessage')).toBe(true);
    // Any other message is left to the agent.
    keep(engine.contactReceived(sms('c3', 'conv-1', 'what is the status of my repair?')));
    expect(texts()).toHaveLength(2);
  });

  it('warns the owner and the supervisors before the deadline, then tells the customer when it slips', () => {
    const { advance, texts, progress, notes, promise, engine } = setup();
    promise(START + DAY);
    advance(19 * HOUR);
    expect(notes('ann')).toEqual([]);
    advance(HOUR);
    expect(progress().at(-1)).toBe(PromiseProgress.PROMISE_PROGRESS_WARNED);
    expect(notes('ann')[0]).toMatch(/^Promise due in about 4 h \(Tuesday 6 January 2026, 10:00 UTC\): "the spare part is ordered"/);
    expect(notes('sue')).toEqual(notes('ann'));
    expect(texts()).toHaveLength(1);
    advance(4 * HOUR);
    expect(progress().at(-1)).toBe(PromiseProgress.PROMISE_PROGRESS_SLIPPED);
    expect(texts().at(-1)).toBe(
      'We are sorry: we are late with your case "Washing machine repair". "the spare part is ordered" was expected by Tuesday 6 January 2026, 10:00 UTC and is not done yet. The person handling your case has been alerted and will send you a new date.',
    );
    expect(notes('ann').at(-1)).toMatch(/^Promise slipped/);
    expect(engine.conversationState('conv-1')!.promise!.state).toBe('slipped');
  });

  it('an update before the deadline makes the old timers stale; a new date after a slip starts again', () => {
    const { advance, progress, promise, clock } = setup();
    promise(START + DAY);
    promise(START + 3 * DAY);
    advance(2 * DAY);
    expect(progress()).not.toContain(PromiseProgress.PROMISE_PROGRESS_SLIPPED);
    advance(DAY);
    expect(progress().filter((p) => p === PromiseProgress.PROMISE_PROGRESS_SLIPPED)).toHaveLength(1);
    promise(clock.t + DAY);
    expect(progress().at(-1)).toBe(PromiseProgress.PROMISE_PROGRESS_UPDATED);
    advance(DAY);
    expect(progress().filter((p) => p === PromiseProgress.PROMISE_PROGRESS_SLIPPED)).toHaveLength(2);
  });

  it('counts as kept when marked done or resolved before the deadline; nothing slips after', () => {
    const { keep, engine, advance, progress, promise, ann, texts } = setup();
    promise(START + DAY);
    keep(engine.markPromiseKept(ann, 'conv-1'));
    expect(() => engine.markPromiseKept(ann, 'conv-1')).toThrow(/no open promise/);
    advance(2 * DAY);
    expect(progress()).toEqual([PromiseProgress.PROMISE_PROGRESS_SET, PromiseProgress.PROMISE_PROGRESS_KEPT]);
    keep(engine.contactReceived(sms('c2', 'conv-1', 'status')));
    expect(texts().at(-1)).toMatch(/"the spare part is ordered" is done/);
    promise(engine.conversationState('conv-1')!.createdAt + 3 * DAY, { milestone: 'refund paid' });
    keep(engine.resolve('ann', 'conv-1', 'repaired'));
    expect(progress().at(-1)).toBe(PromiseProgress.PROMISE_PROGRESS_KEPT);
  });

  it('a supervisor may set the promise on a conversation they do not hold', () => {
    const { keep, engine, texts, clock } = setup();
    keep(engine.setPromise({ id: 'sue', supervisor: true }, 'conv-1', { milestone: 'refund approved', dueAt: clock.t + DAY, costMinor: 0, currency: '' }));
    expect(engine.conversationState('conv-1')!.promise).toMatchObject({ ownerId: 'ann', setBy: 'sue' });
    expect(texts()).toHaveLength(1);
  });

  it('tells a caller by SMS, and a chat visitor on the chat', () => {
    const { keep, engine, clock } = setup();
    keep(engine.setPresence('ann', Presence.PRESENCE_AVAILABLE));
    const sent: Channel[] = [];
    for (const [id, channel] of [
      ['conv-voice', Channel.CHANNEL_VOICE],
      ['conv-chat', Channel.CHANNEL_CHAT],
    ] as const) {
      keep(
        engine.contactReceived(
          ContactReceived.fromPartial({
            ...sms(`${id}-c`, id, 'hello', true),
            channel,
            kind: channel === Channel.CHANNEL_VOICE ? ContactKind.CONTACT_KIND_CALL : ContactKind.CONTACT_KIND_MESSAGE,
          }),
        ),
      );
      keep(engine.accept('ann', id));
      const { effects } = engine.setPromise({ id: 'ann', supervisor: false }, id, {
        milestone: 'refund paid',
        dueAt: clock.t + DAY,
        costMinor: 0,
        currency: '',
      });
      for (const e of effects) if (e.type === 'outbound') sent.push(e.message.channel);
    }
    expect(sent).toEqual([Channel.CHANNEL_SMS, Channel.CHANNEL_CHAT]);
  });

  it('keeps the promise and its timers across a restart', () => {
    const { engine, promise, clock } = setup();
    promise(START + DAY);
    const again = new RoutingEngine(policyWith({ promiseWarningLeadMs: 4 * HOUR }), clock);
    again.restore({ agents: [...engine.agents.values()], conversations: [...engine.conversations.values()], customers: [] });
    clock.t = START + DAY;
    const effects = again.tick();
    const steps = effects.flatMap((e) => (e.type === 'conversation' && e.event.step?.$case === 'promise' ? [e.event.step.promise.progress] : []));
    expect(steps).toEqual([PromiseProgress.PROMISE_PROGRESS_WARNED, PromiseProgress.PROMISE_PROGRESS_SLIPPED]);
  });
});
