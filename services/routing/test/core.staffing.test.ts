import { describe, expect, it } from 'vitest';
import { Presence, Tier } from '#libs/proto';
import type { AgentRecord } from '../src/core/records';
import { StaffingCounts } from '../src/core/staffing';

function agent(id: string, tier: Tier, skills: string[], presence: Presence): AgentRecord {
  return {
    id,
    name: id,
    tier,
    skills: Object.fromEntries(skills.map((s) => [s, 3])),
    languages: [],
    capacity: { voice: 1, chat: 3, sms: 3, email: 3, api: 3, whatsapp: 3 },
    totalCapacity: 3,
    presence,
    load: { voice: 0, chat: 0, sms: 0, email: 0, api: 0, whatsapp: 0 },
    active: [],
    idleSince: 0,
    missedOffers: 0,
    wrapUpUntil: 0,
    updatedAt: 0,
  };
}

describe('staffing counts', () => {
  it('follow presence, tier and skills as agents come, go and register again', () => {
    const counts = new Staffing();
    const a = agent('a', Tier.TIER_FRONT_OFFICE, ['billing', 'general'], Presence.PRESENCE_OFFLINE);
    const b = agent('b', Tier.TIER_FRONT_OFFICE, ['billing'], Presence.PRESENCE_AVAILABLE);
    const x = agent('x', Tier.TIER_EXPERT, ['billing'], Presence.PRESENCE_BUSY);
    for (const r of [a, b, x]) counts.track(r);
    expect(counts.of(Tier.TIER_FRONT_OFFICE, 'billing')).toBe(1);
    expect(counts.of(Tier.TIER_EXPERT, 'billing')).toBe(1);

    counts.set(a, Presence.PRESENCE_AVAILABLE);
    expect([counts.of(Tier.TIER_FRONT_OFFICE, 'billing'), counts.of(Tier.TIER_FRONT_OFFICE, 'general')]).toEqual([2, 1]);
    // Available, busy and wrap-up all staff the queues: moving among them changes nothing.
    counts.set(a, Presence.PRESENCE_WRAP_UP);
    counts.set(a, Presence.PRESENCE_BUSY);
    expect(counts.of(Tier.TIER_FRONT_OFFICE, 'billing')).toBe(2);
    counts.set(b, Presence.PRESENCE_AWAY);
    counts.set(b, Presence.PRESENCE_AWAY);
    expect(counts.of(Tier.TIER_FRONT_OFFICE, 'billing')).toBe(1);

    // A new record of the agent replaces the old one's skills.
    counts.track(agent('a', Tier.TIER_FRONT_OFFICE, ['general'], Presence.PRESENCE_AVAILABLE));
    expect([counts.of(Tier.TIER_FRONT_OFFICE, 'billing'), counts.of(Tier.TIER_FRONT_OFFICE, 'general')]).toEqual([0, 1]);
    counts.counts.untrack('a');
    expect(counts.of(Tier.TIER_FRONT_OFFICE, 'general')).toBe(0);
    expect(counts.of(Tier.TIER_EXPERT, 'billing')).toBe(1);
  });
});

/** The counts, with presence set on the record as the roster sets it. */
class Staffing {
  readonly counts = new StaffingCounts();
  track(a: AgentRecord): void {
    this.counts.track(a);
  }
  set(a: AgentRecord, presence: Presence): void {
    a.presence = presence;
    this.counts.presenceChanged(a);
  }
  of(tier: Tier, skill: string): number {
    return this.counts.count(`${tier}/${skill}`);
  }
}
