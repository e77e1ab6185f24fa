import { describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind } from '#libs/proto';
import { RoutingEngine } from '../src/core/engine';
import { DEFAULT_POLICY, policyWith } from '../src/core/policy';
import { agentsForBacklog, agentsNeeded } from '../src/core/agents-needed';

describe('agents needed for a backlog', () => {
  it('needs enough agents to answer the waiting contacts within the target', () => {
    // SMS: 15 min handle, 15 min target, 5 at once: each slot answers one now and one after 15 min.
    expect(agentsForBacklog(115, 900_000, 900_000, 5)).toBe(12);
    // Email: 20 min handle, 4 h target, 5 at once: each slot answers 1 + 12 within the target.
    expect(agentsForBacklog(64, 1_200_000, 4 * 3600_000, 5)).toBe(1);
    expect(agentsForBacklog(66, 1_200_000, 4 * 3600_000, 5)).toBe(2);
    // Chat: one visitor waiting needs one agent, not one per minute of handle time.
    expect(agentsForBacklog(1, 600_000, 60_000, 3)).toBe(1);
    // Voice, one call at a time: every waiting caller needs an agent of their own.
    expect(agentsForBacklog(7, 300_000, 30_000, 1)).toBe(7);
    expect(agentsForBacklog(0, 1_200_000, 4 * 3600_000, 5)).toBe(0);
  });

  it('takes the larger of Erlang C for the arrivals and the backlog', () => {
    const quiet = { arrivalsPerMs: 0, handleMs: 900_000, targetMs: 900_000, targetLevel: 0.8, perAgent: 5 };
    expect(agentsNeeded({ ...quiet, waiting: 0 })).toBe(0);
    expect(agentsNeeded({ ...quiet, waiting: 115 })).toBe(12);
    // Busy voice line, one call waiting: Erlang C decides (100 calls an hour of 6 min need 14).
    const busy = { arrivalsPerMs: 100 / 3600_000, handleMs: 360_000, targetMs: 20_000, targetLevel: 0.8, perAgent: 1 };
    expect(agentsNeeded({ ...busy, waiting: 1 })).toBe(agentsNeeded({ ...busy, waiting: 0 }));
    expect(agentsNeeded({ ...busy, waiting: 0 })).toBeGreaterThanOrEqual(14);
  });
});

describe('queue statistics with nobody staffed', () => {
  it('no longer shows "needed 0" beside 115 SMS and 64 emails waiting', () => {
    let t = Date.UTC(2026, 0, 5, 9, 0, 0);
    const engine = new RoutingEngine(policyWith({}), { now: () => t });
    const write = (n: number, channel: Channel, prefix: string) => {
      for (let i = 0; i < n; i++) {
        engine.contactReceived(
          ContactReceived.fromPartial({
            contactId: `${prefix}-m${i}`,
            conversationId: `${prefix}-c${i}`,
            channel,
            kind: ContactKind.CONTACT_KIND_MESSAGE,
            sender: { kind: IdentityKind.IDENTITY_KIND_PHONE, value: `+4470000${prefix === 'sms' ? 1 : 2}${String(i).padStart(4, '0')}` },
            subject: `question ${i}`,
            text: 'hello',
            language: 'en',
            newConversation: true,
          }),
          {},
        );
      }
    };
    write(115, Channel.CHANNEL_SMS, 'sms');
    write(64, Channel.CHANNEL_EMAIL, 'email');
    // Two hours later the arrivals are outside the rate window; the backlog is still there.
    t += 2 * 3600_000;
    const stats = engine.queueStats();
    const sms = stats.find((s) => s.channel === Channel.CHANNEL_SMS)!;
    const email = stats.find((s) => s.channel === Channel.CHANNEL_EMAIL)!;
    expect(sms).toMatchObject({ waiting: 115, agentsStaffed: 0 });
    expect(email).toMatchObject({ waiting: 64, agentsStaffed: 0 });
    const smsHandle = DEFAULT_POLICY.defaultHandleMs.sms;
    expect(sms.agentsNeeded).toBe(agentsForBacklog(115, smsHandle, DEFAULT_POLICY.slaTargetMs.sms, DEFAULT_POLICY.capacityDefaults.sms));
    expect(sms.agentsNeeded).toBe(12);
    expect(email.agentsNeeded).toBe(1);
  });
});
