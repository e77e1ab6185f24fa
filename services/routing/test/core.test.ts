import { describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind, OutboundKind, Presence, RiskLevel, SlaEventKind, Tier } from '#libs/proto';
import { RoutingEngine, RoutingError, type AgentProfile, type CustomerInfo, type Effect } from '../src/core/engine';
import { changeRecords } from '../src/changelog';
import { erlangC, serversNeeded, serviceLevel } from '../src/core/erlang';
import { DEFAULT_POLICY, policyWith, type RoutingPolicy } from '../src/core/policy';

function recording(engine: RoutingEngine, log: Effect[]): RoutingEngine {
  return new Proxy(engine, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver);
      if (typeof value !== 'function') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (Array.isArray(result)) log.push(...(result as Effect[]));
        else if (result && typeof result === 'object' && 'effects' in result) log.push(...(result as { effects: Effect[] }).effects);
        return result;
      };
    },
  });
}

class VirtualClock {
  t = Date.UTC(2026, 0, 5, 9, 0, 0);
  now = () => this.t;
}

function setup(overrides: Partial<RoutingPolicy> = {}) {
  const clock = new VirtualClock();
  const log: Effect[] = [];
  // Every call's effects are kept in `log`, as the adapters would publish them.
  const engine = recording(new RoutingEngine(policyWith(overrides), clock), log);
  const run = (effects: Effect[]) => effects;
  const advance = (ms: number) => {
    clock.t += ms;
    return run(engine.tick());
  };
  let n = 0;
  const contact = (over: Partial<ContactReceived> & { conversationId?: string } = {}, customer: CustomerInfo = {}) => {
    n++;
    const c = ContactReceived.fromPartial({
      contactId: `m${n}`,
      conversationId: over.conversationId ?? `c${n}`,
      channel: Channel.CHANNEL_CHAT,
      kind: ContactKind.CONTACT_KIND_MESSAGE,
      sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `customer${n}@example.com` },
      subject: '',
      text: 'hello',
      language: 'en',
      newConversation: true,
      ...over,
    });
    run(engine.contactReceived(c, customer));
    return c.conversationId;
  };
  const agent = (id: string, over: Partial<AgentProfile> = {}, presence = Presence.PRESENCE_AVAILABLE) => {
    run(engine.registerAgent({ id, name: id, tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3, billing: 3 }, languages: ['en'], ...over }));
    clock.t += 1; // distinct idle times, oldest first
    run(engine.setPresence(id, presence));
  };
  const steps = (conversationId: string) =>
    log.flatMap((e) => (e.type === 'conversation' && e.event.conversationId === conversationId && e.event.step ? [e.event.step.$case] : []));
  const events = (conversationId: string, kind: string) =>
    log.flatMap((e) => (e.type === 'conversation' && e.event.conversationId === conversationId && e.event.step?.$case === kind ? [e.event] : []));
  const offeredTo = (conversationId: string) => events(conversationId, 'offered').map((e) => (e.step as { offered: { agentId: string } }).offered.agentId);
  return { clock, engine, log, run, advance, contact, agent, steps, events, offeredTo };
}

describe('classification', () => {
  it('sets skill, priority, complexity and risk from keyword, pattern, language, channel and flag rules', () => {
    const { engine, contact, events } = setup({
      rules: [
        { id: 'fr-billing', when: { keywords: ['facture'], languages: ['fr'] }, then: { skill: 'billing', priority: 2 } },
        { id: 'order-no', when: { pattern: 'order #\\d{5}' }, then: { skill: 'orders', complexity: 3 } },
        { id: 'vip-voice', when: { channels: ['voice'], customerFlags: ['vip'] }, then: { priority: 5 } },
      ],
    });
    const a = contact({ text: 'Ma facture est fausse', language: 'fr-FR' });
    expect(engine.conversationState(a)!.skill).toBe('billing');
    expect(events(a, 'queued')[0]!.reason!.rule).toBe('fr-billing');
    const b = contact({ text: 'Ma facture', language: 'en' });
    expect(engine.conversationState(b)!.skill).toBe('general');
    const c = contact({ text: 'about order #12345' });
    expect(engine.conversationState(c)!.classification).toMatchObject({ skill: 'orders', complexity: 3 });
    const d = contact({ channel: Channel.CHANNEL_VOICE }, { flags: ['vip'] });
    expect(engine.conversationState(d)!.classification.priority).toBe(5);
  });

  it('sends high-risk conversations straight to the experts queue with the rule as reason', () => {
    const { engine, contact, steps, events } = setup();
    const id = contact({ text: 'I will talk to my lawyer about this' });
    expect(steps(id)).toEqual(['escalated', 'queued']);
    const esc = events(id, 'escalated')[0]!;
    expect(esc.reason).toMatchObject({ code: 'rule.high_risk', rule: 'legal-threat' });
    expect(esc.step).toMatchObject({ escalated: { automatic: true, queue: 'tier2/complaints/chat' } });
    expect(engine.conversationState(id)!.classification.risk).toBe(RiskLevel.RISK_LEVEL_HIGH);
  });

  it('escalates automatically above the complexity threshold', () => {
    const { contact, events } = setup({ rules: [{ id: 'hard', when: { keywords: ['migration'] }, then: { skill: 'technical', complexity: 9 } }] });
    const id = contact({ text: 'database migration question' });
    expect(events(id, 'escalated')[0]!.reason).toMatchObject({ code: 'rule.complexity', rule: 'hard' });
  });

  it('ignores automated contacts and repeated contact ids', () => {
    const { engine, contact, log } = setup();
    contact({ kind: ContactKind.CONTACT_KIND_AUTOMATED });
    expect(log).toHaveLength(0);
    const c = ContactReceived.fromPartial({ contactId: 'x', conversationId: 'cx', channel: Channel.CHANNEL_SMS, text: 'hi' });
    expect(engine.contactReceived(c).length).toBeGreaterThan(0);
    expect(engine.contactReceived(c)).toEqual([]);
    expect(() => engine.contactReceived(ContactReceived.fromPartial({ contactId: 'y', conversationId: 'cy' }))).toThrow(RoutingError);
  });
});

describe('queue priority', () => {
  it('serves institutional, VIP and regular customers first, then voice, chat, SMS, email', () => {
    const { contact, agent, engine, offeredTo } = setup();
    const email = contact({ channel: Channel.CHANNEL_EMAIL });
    const sms = contact({ channel: Channel.CHANNEL_SMS });
    const chat = contact({ channel: Channel.CHANNEL_CHAT });
    const voice = contact({ channel: Channel.CHANNEL_VOICE });
    const vipChat = contact({ channel: Channel.CHANNEL_CHAT }, { flags: ['vip'] });
    const instEmail = contact({ channel: Channel.CHANNEL_EMAIL }, { flags: ['institutional'] });
    // One agent with room for one conversation at a time.
    agent('a1', { totalCapacity: 1, capacity: { voice: 1, chat: 1, sms: 1, email: 1 } });
    const order: string[] = [];
    for (let i = 0; i < 6; i++) {
      const offered = [email, sms, chat, voice, vipChat, instEmail].find((id) => engine.conversationState(id)!.state === 'offered')!;
      order.push(offered);
      engine.accept('a1', offered);
      engine.resolve('a1', offered, 'done');
    }
    expect(order).toEqual([vipChat, instEmail, voice, chat, sms, email]);
    expect(offeredTo(voice)).toEqual(['a1']);
  });

  it("connects an accepted call naming the call's queue, for the voice channel's per-queue recording", () => {
    const { contact, agent, engine, log } = setup();
    const voice = contact({ channel: Channel.CHANNEL_VOICE });
    agent('a1');
    engine.accept('a1', voice);
    const connect = log.find((e) => e.type === 'outbound' && e.message.kind === OutboundKind.OUTBOUND_KIND_CONNECT_CALL);
    expect(connect?.type === 'outbound' && connect.message).toMatchObject({
      conversationId: voice,
      agentId: 'a1',
      queue: engine.conversationState(voice)!.queue,
    });
    expect(engine.conversationState(voice)!.queue).not.toBe('');
  });

  it('ages waiting conversations so an old email overtakes newer voice calls', () => {
    const { contact, agent, engine, clock } = setup();
    const email = contact({ channel: Channel.CHANNEL_EMAIL });
    clock.t += 11 * 60_000; // 40 points × 15 s = 10 minutes of ageing
    const voice = contact({ channel: Channel.CHANNEL_VOICE });
    agent('a1', { totalCapacity: 1 });
    expect(engine.conversationState(email)!.state).toBe('offered');
    expect(engine.conversationState(voice)!.state).toBe('queued');
  });
});

describe('target list', () => {
  it('offers to the account manager first, then widens to skilled tier-1 agents after the step timeout', () => {
    const { contact, agent, advance, engine, events } = setup();
    agent('manager', { tier: Tier.TIER_EXPERT, skills: { accounts: 5 } });
    engine.setPresence('manager', Presence.PRESENCE_AVAILABLE);
    agent('t1');
    const first = contact({}, { flags: ['institutional'], accountManagerId: 'manager' });
    expect(events(first, 'offered')[0]!.reason).toMatchObject({ code: 'target.account_manager', targetStep: 1, eligibleAgents: 1 });
    // The manager is busy on another voice call; a second conversation waits for them.
    engine.accept('manager', first);
    engine.registerAgent({ id: 'manager', name: 'manager', tier: Tier.TIER_EXPERT, skills: { accounts: 5 }, languages: ['en'], totalCapacity: 1 });
    const second = contact({}, { flags: ['institutional'], accountManagerId: 'manager' });
    expect(engine.conversationState(second)!.state).toBe('queued');
    advance(DEFAULT_POLICY.stepTimeoutMs.accountManager);
    expect(events(second, 'offered')[0]!.reason).toMatchObject({ code: 'target.skilled', targetStep: 3 });
    expect(events(second, 'offered')[0]!.step).toMatchObject({ offered: { agentId: 't1' } });
  });

  it('prefers the agent who last served the customer within the window', () => {
    const { contact, agent, engine, events, clock } = setup();
    agent('old');
    agent('recent');
    const sender = { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+15550001', namespace: '' };
    const first = contact({ sender });
    // "old" has been idle longest so gets the first conversation; resolve it with "old".
    expect(events(first, 'offered')[0]!.step).toMatchObject({ offered: { agentId: 'old' } });
    engine.accept('old', first);
    engine.resolve('old', first, 'answered');
    clock.t += 60_000;
    const second = contact({ sender, subject: 'another thing' });
    expect(events(second, 'offered')[0]!.reason).toMatchObject({ code: 'target.last_agent', targetStep: 2 });
    expect(events(second, 'offered')[0]!.step).toMatchObject({ offered: { agentId: 'old' } });
  });

  it('chooses the longest idle skilled agent and says why', () => {
    const { contact, agent, events } = setup();
    agent('a-first');
    agent('b-second');
    agent('no-skill', { skills: { retention: 2 } });
    const id = contact({ text: 'my invoice is wrong' });
    const offered = events(id, 'offered')[0]!;
    expect(offered.step).toMatchObject({ offered: { agentId: 'a-first' } });
    expect(offered.reason).toMatchObject({ targetStep: 3, eligibleAgents: 2, rule: 'billing' });
    expect(offered.reason!.whyChosen).toMatch(/longest idle/);
  });

  it('widens to other skill levels, then to the whole tier', () => {
    const { contact, agent, advance, events } = setup({
      rules: [{ id: 'vip-billing', when: { keywords: ['invoice'] }, then: { skill: 'billing', minLevel: 5 } }],
    });
    agent('junior', { skills: { billing: 1 } });
    const id = contact({ text: 'invoice' });
    expect(events(id, 'offered')).toHaveLength(0);
    advance(DEFAULT_POLICY.stepTimeoutMs.skilled);
    expect(events(id, 'offered')[0]!.reason).toMatchObject({ targetStep: 4 });
    const { contact: contact2, agent: agent2, advance: advance2, events: events2 } = setup();
    agent2('other', { skills: { retention: 3 } });
    const id2 = contact2({ text: 'invoice' });
    advance2(DEFAULT_POLICY.stepTimeoutMs.skilled);
    expect(events2(id2, 'offered')).toHaveLength(0);
    advance2(DEFAULT_POLICY.stepTimeoutMs.anyLevel);
    expect(events2(id2, 'offered')[0]!.reason).toMatchObject({ targetStep: 5, code: 'target.whole_tier' });
  });
});

describe('offers', () => {
  it('moves a timed-out or declined offer to the next candidate and sets away an agent who misses several', () => {
    const { contact, agent, advance, engine, offeredTo, events } = setup({ maxMissedOffers: 2 });
    agent('sleepy');
    agent('awake');
    const a = contact();
    expect(offeredTo(a)).toEqual(['sleepy']);
    engine.decline('sleepy', a);
    expect(offeredTo(a)).toEqual(['sleepy', 'awake']);
    engine.decline('awake', a);
    // Nobody else: it waits in its queue.
    expect(engine.conversationState(a)!.state).toBe('queued');
    engine.setPresence('awake', Presence.PRESENCE_BUSY);
    const b = contact();
    expect(offeredTo(b)).toEqual(['sleepy']);
    engine.setPresence('awake', Presence.PRESENCE_AVAILABLE);
    advance(DEFAULT_POLICY.offerTimeoutMs);
    expect(events(b, 'offerDeclined')[0]!.step).toMatchObject({ offerDeclined: { agentId: 'sleepy', timedOut: true } });
    expect(offeredTo(b)).toEqual(['sleepy', 'awake']);
    // "awake" is now full (capacity), "sleepy" misses a second offer in a row and is set away.
    engine.registerAgent({ id: 'awake', name: 'awake', tier: Tier.TIER_FRONT_OFFICE, skills: { general: 3 }, languages: ['en'], totalCapacity: 1 });
    const c = contact();
    expect(offeredTo(c)).toEqual(['sleepy']);
    advance(DEFAULT_POLICY.offerTimeoutMs);
    expect(engine.agents.get('sleepy')!.presence).toBe(Presence.PRESENCE_AWAY);
    expect(engine.conversationState(c)!.state).toBe('queued');
  });

  it('never exceeds per-channel or total capacity', () => {
    const { contact, agent, engine } = setup();
    agent('a1', { capacity: { chat: 2, email: 5 }, totalCapacity: 3 });
    const chats = [contact(), contact(), contact()];
    expect(chats.map((id) => engine.conversationState(id)!.state)).toEqual(['offered', 'offered', 'queued']);
    const emails = [contact({ channel: Channel.CHANNEL_EMAIL }), contact({ channel: Channel.CHANNEL_EMAIL })];
    expect(emails.map((id) => engine.conversationState(id)!.state)).toEqual(['offered', 'queued']);
    const a = engine.agents.get('a1')!;
    expect(a.load).toMatchObject({ chat: 2, email: 1 });
    expect(a.active).toHaveLength(3);
    engine.accept('a1', chats[0]!);
    engine.resolve('a1', chats[0]!, 'ok');
    // The freed chat slot takes the waiting chat; total stays at 3.
    expect(engine.conversationState(chats[2]!)!.state).toBe('offered');
    expect(engine.agents.get('a1')!.active).toHaveLength(3);
  });

  it('returns an offline agent’s conversations to the front of the queue', () => {
    const { contact, agent, engine, steps, log } = setup();
    agent('leaver', { totalCapacity: 1 });
    const mine = contact();
    engine.accept('leaver', mine);
    const waiting = contact();
    engine.setPresence('leaver', Presence.PRESENCE_OFFLINE);
    expect(steps(mine)).toContain('requeued');
    const q = engine.waitEstimate(mine);
    expect(q.position).toBe(1);
    expect(engine.waitEstimate(waiting).position).toBe(2);
    expect(log.some((e) => e.type === 'notify' && e.agentId === 'leaver' && e.update.update?.$case === 'revoked')).toBe(true);
  });
});

describe('escalation', () => {
  it('escalates with a note to the tier-2 queue, tells the customer, and lets the expert hand back', () => {
    const { contact, agent, engine, events, log, offeredTo } = setup();
    agent('front');
    agent('expert', { tier: Tier.TIER_EXPERT, skills: { billing: 5 } });
    const id = contact({ text: 'my invoice again' });
    engine.accept('front', id);
    engine.escalate('front', id, 'customer disputes three invoices');
    const esc = events(id, 'escalated')[0]!;
    expect(esc.step).toMatchObject({
      escalated: { fromAgentId: 'front', note: 'customer disputes three invoices', queue: 'tier2/billing/chat', automatic: false },
    });
    expect(
      log.some(
        (e) =>
          e.type === 'outbound' &&
          e.message.conversationId === id &&
          e.message.kind === OutboundKind.OUTBOUND_KIND_STATUS_UPDATE &&
          /specialist/.test(e.message.text),
      ),
    ).toBe(true);
    const offer = log.find((e) => e.type === 'notify' && e.agentId === 'expert' && e.update.update?.$case === 'offer');
    expect(offer && offer.type === 'notify' && offer.update.update?.$case === 'offer' && offer.update.update.offer.escalationNote).toBe(
      'customer disputes three invoices',
    );
    // The desk looks the customer up by this identity when routing had no customer id yet.
    expect(offer && offer.type === 'notify' && offer.update.update?.$case === 'offer' && offer.update.update.offer.customerIdentity).toMatchObject({
      kind: IdentityKind.IDENTITY_KIND_EMAIL,
      value: expect.stringMatching(/^customer\d+@example\.com$/),
    });
    expect(offeredTo(id)).toEqual(['front', 'expert']);
    engine.accept('expert', id);
    engine.handBack('expert', id, 'credit issued, please confirm with the customer');
    expect(events(id, 'handedBack')).toHaveLength(1);
    expect(offeredTo(id)).toEqual(['front', 'expert', 'front']);
    expect(events(id, 'offered')[2]!.reason).toMatchObject({ targetStep: 2 });
  });

  it('escalates a repeat contact on the same subject within 7 days', () => {
    const { contact, agent, engine, events, clock } = setup();
    agent('front');
    const sender = { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ana@example.com', namespace: '' };
    const first = contact({ sender, subject: 'Router keeps rebooting', channel: Channel.CHANNEL_EMAIL });
    engine.accept('front', first);
    engine.resolve('front', first, 'fixed');
    clock.t += 3 * 86_400_000;
    const again = contact({ sender, subject: 'RE: Router keeps rebooting', channel: Channel.CHANNEL_EMAIL });
    expect(events(again, 'escalated')[0]!.reason).toMatchObject({ code: 'rule.repeat_contact' });
    clock.t += 8 * 86_400_000;
    const later = contact({ sender, subject: 'Router keeps rebooting', channel: Channel.CHANNEL_EMAIL });
    expect(events(later, 'escalated')).toHaveLength(0);
  });

  it('escalates a high-risk conversation that breaches its SLA in the front office', () => {
    const { contact, advance, events, log } = setup({ highRiskToExperts: false });
    const id = contact({ channel: Channel.CHANNEL_VOICE, text: 'there is smoke coming from the unit' });
    expect(events(id, 'escalated')).toHaveLength(0);
    advance(30_000);
    expect(log.some((e) => e.type === 'sla' && e.event.kind === SlaEventKind.SLA_EVENT_KIND_BREACH)).toBe(true);
    expect(events(id, 'escalated')[0]!.reason).toMatchObject({ code: 'rule.sla_breach_high_risk' });
  });

  it('transfers to another agent or queue, and lets a supervisor reassign', () => {
    const { contact, agent, engine, events } = setup();
    agent('a1');
    agent('a2');
    const id = contact();
    engine.accept('a1', id);
    engine.transfer('a1', id, { toAgentId: 'a2', note: 'speaks Portuguese' });
    expect(engine.conversationState(id)).toMatchObject({ state: 'assigned', agentId: 'a2' });
    engine.reassign(id, 'a1');
    expect(engine.conversationState(id)).toMatchObject({ state: 'assigned', agentId: 'a1' });
    engine.transfer('a1', id, { toQueue: 'retention' });
    expect(events(id, 'transferred')).toHaveLength(3);
    expect(engine.conversationState(id)!.queue).toBe('tier1/retention/chat');
    expect(() => engine.transfer('a1', id, { toQueue: 'x' })).toThrow(/not assigned/);
  });
});

describe('service levels and wait estimates', () => {
  it('warns at 80 %, breaches at 100 %, and reports met when answered in time', () => {
    const { contact, agent, advance, engine, log } = setup();
    const late = contact({ channel: Channel.CHANNEL_CHAT });
    advance(48_000);
    advance(12_000);
    const sla = log.filter((e) => e.type === 'sla').map((e) => e.type === 'sla' && [e.event.kind, e.event.elapsedMs]);
    expect(sla).toEqual([
      [SlaEventKind.SLA_EVENT_KIND_WARNING, 48_000],
      [SlaEventKind.SLA_EVENT_KIND_BREACH, 60_000],
    ]);
    agent('a1');
    engine.accept('a1', late);
    const sms = contact({ channel: Channel.CHANNEL_SMS });
    engine.accept('a1', sms);
    advance(60_000);
    engine.reply('a1', sms, 'Hello!');
    expect(log.filter((e) => e.type === 'sla' && e.event.conversationId === sms).map((e) => e.type === 'sla' && e.event.kind)).toEqual([
      SlaEventKind.SLA_EVENT_KIND_MET,
    ]);
    const stats = engine.queueStats().find((s) => s.queue === 'tier1/general/chat')!;
    expect(stats.serviceLevel).toBe(0);
  });

  it('estimates wait per position from handle times and staffed agents, and measures its error', () => {
    const { contact, agent, engine, advance } = setup();
    agent('a1', { capacity: { chat: 1 }, totalCapacity: 1 });
    agent('a2', { capacity: { chat: 1 }, totalCapacity: 1 });
    // Before any handle time is known, the channel default is used.
    const busy = [contact(), contact()];
    busy.forEach((id, i) => engine.accept(`a${i + 1}`, id));
    const w1 = contact();
    const w2 = contact();
    const e1 = engine.waitEstimate(w1);
    const e2 = engine.waitEstimate(w2);
    expect(e1.position).toBe(1);
    expect(e2.position).toBe(2);
    expect(e2.estimatedWaitMs).toBe(2 * e1.estimatedWaitMs);
    advance(120_000);
    engine.resolve('a1', busy[0]!, 'ok');
    engine.accept('a1', w1);
    const acc = engine.ewtAccuracy('tier1/general/chat');
    expect(acc.samples).toBeGreaterThan(0);
    const stats = engine.queueStats().find((s) => s.queue === 'tier1/general/chat')!;
    expect(stats).toMatchObject({ waiting: 1, agentsStaffed: 2, averageHandleMs: 120_000 });
    expect(stats.ewtMeanAbsoluteErrorMs).toBeGreaterThanOrEqual(0);
    expect(stats.agentsNeeded).toBeGreaterThanOrEqual(1);
  });

  it('does not read one arrival just after start as a huge rate when sizing staff', () => {
    const { contact, engine, advance } = setup();
    contact();
    advance(2_000);
    const stats = engine.queueStats().find((s) => s.queue === 'tier1/general/chat')!;
    expect(stats.agentsNeeded).toBeLessThanOrEqual(2);
  });

  it('uses the SLA target as the estimate when nobody is staffed', () => {
    const { contact, engine } = setup();
    const id = contact({ channel: Channel.CHANNEL_EMAIL });
    expect(engine.waitEstimate(id)).toMatchObject({ position: 1, estimatedWaitMs: 4 * 3600_000, fromTarget: true });
  });

  it('computes Erlang C and staffing', () => {
    // Textbook case: 10 Erlangs on 11 agents waits with probability ~0.68.
    expect(erlangC(11, 10)).toBeCloseTo(0.6821, 3);
    const perMs = 100 / 3600_000;
    expect(serversNeeded(perMs, 360_000, 20_000, 0.8)).toBe(serversNeededBrute(perMs, 360_000, 20_000, 0.8));
    expect(serviceLevel(14, perMs, 360_000, 20_000)).toBeGreaterThan(0.8);
  });
});

function serversNeededBrute(perMs: number, aht: number, target: number, level: number): number {
  for (let n = 1; ; n++) if (serviceLevel(n, perMs, aht, target) >= level) return n;
}

describe('wrap-up, resolution and restore', () => {
  it('sends the survey on resolve, keeps the agent in wrap-up, then offers again', () => {
    const { contact, agent, engine, advance, log } = setup({ wrapUpMs: 10_000 });
    agent('a1', { totalCapacity: 1 });
    const a = contact();
    const b = contact();
    engine.accept('a1', a);
    engine.resolve('a1', a, 'answered');
    expect(log.some((e) => e.type === 'outbound' && e.message.conversationId === a && e.message.kind === OutboundKind.OUTBOUND_KIND_SURVEY)).toBe(true);
    expect(engine.agents.get('a1')!.presence).toBe(Presence.PRESENCE_WRAP_UP);
    expect(engine.conversationState(b)!.state).toBe('queued');
    advance(10_000);
    expect(engine.conversationState(b)!.state).toBe('offered');
  });

  it('keeps a low survey score of a resolved conversation for the supervisor, and its record in the changelog', () => {
    const { contact, agent, engine } = setup();
    agent('a1', { totalCapacity: 2 });
    const low = contact();
    const high = contact();
    for (const c of [low, high]) {
      engine.accept('a1', c);
      engine.resolve('a1', c, 'answered');
    }
    engine.takeChanges();
    engine.surveyAnswered(high, { score: 5, agentId: 'a1' }, 1000);
    engine.surveyAnswered(low, { score: 2, agentId: 'a1' }, 2000);
    // The first answer counts; an unknown conversation is passed by.
    engine.surveyAnswered(low, { score: 1, agentId: 'a1' }, 3000);
    engine.surveyAnswered('conv-unknown', { score: 1, agentId: '' }, 3000);
    expect(engine.lowScoreFollowUps().map((c) => [c.id, c.lowScore])).toEqual([[low, { score: 2, agentId: 'a1', answeredAt: 2000 }]]);
    const written = changeRecords(engine, engine.takeChanges());
    expect(written.map((r) => [r.key, r.value === null ? null : JSON.parse(r.value).lowScore])).toEqual([
      [`conversation/${low}`, { score: 2, agentId: 'a1', answeredAt: 2000 }],
    ]);
    // A resolved conversation without one is deleted from the changelog as before.
    expect(changeRecords(engine, { conversations: [high], agents: [], customers: [] })).toEqual([{ key: `conversation/${high}`, value: null }]);
  });

  it('restores from snapshots: queued stays queued, open offers go back to the front, assignments stay', () => {
    const { contact, agent, engine, clock } = setup();
    agent('a1', { totalCapacity: 2 });
    const assigned = contact();
    engine.accept('a1', assigned);
    const offered = contact();
    engine.setPresence('a1', Presence.PRESENCE_BUSY); // no more offers
    const queued = contact();
    const restored = new RoutingEngine(DEFAULT_POLICY, clock);
    restored.restore({
      agents: [...engine.agents.values()].map((a) => structuredClone(a)),
      conversations: [...engine.conversations.values()].map((c) => structuredClone(c)),
      customers: [],
    });
    expect(restored.conversationState(assigned)).toMatchObject({ state: 'assigned', agentId: 'a1' });
    expect(restored.conversationState(queued)!.state).toBe('queued');
    // The busy agent's open offer was withdrawn when presence changed; still queued ahead.
    expect(restored.waitEstimate(offered).position).toBe(1);
    expect(() => restored.accept('a1', assigned)).toThrow(RoutingError);
  });
});
