// A person at the desk writing first to a customer, in the core alone: the first message out at
// once, the answer back to the writer's queue and to the writer first, a supervisor's notice
// marked as one, and SMS held back in quiet hours.
import { describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind, Presence, Tier } from '#libs/proto';
import { RoutingEngine, type Effect } from '../src/core/engine';
import type { StartRequest } from '../src/core/outreach';
import { policyWith } from '../src/core/policy';
import { inQuietHours, parseQuietHours, quietHoursText } from '../src/core/quiet-hours';

const phone = { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+14155550142', namespace: '' };

function setup(t = Date.UTC(2026, 0, 5, 12, 0, 0), quiet?: string) {
  const clock = { t, now: () => clock.t };
  const engine = new RoutingEngine(policyWith(quiet ? { smsQuietHours: parseQuietHours(quiet, 'Europe/Paris') } : {}), clock);
  for (const id of ['ana', 'ben']) {
    engine.registerAgent({ id, name: id, tier: Tier.TIER_FRONT_OFFICE, skills: { billing: 3, general: 3 }, languages: ['en'] });
    engine.setPresence(id, Presence.PRESENCE_AVAILABLE);
  }
  const start = (over: Partial<StartRequest> = {}) =>
    engine.startConversation({
      conversationId: 'conv-out-1',
      starter: { staffId: 'ben', tier: Tier.TIER_FRONT_OFFICE, skill: 'billing', noticeId: '' },
      channel: 'sms',
      customerId: 'cust-1',
      recipient: phone,
      subject: '',
      text: 'Your invoice was corrected; the refund follows.',
      reference: 'R4K2',
      ...over,
    });
  return { clock, engine, start };
}

const events = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'conversation' ? [e.event] : []));
const offers = (effects: Effect[]) => effects.flatMap((e) => (e.type === 'notify' && e.update.update?.$case === 'offer' ? [e.agentId] : []));

describe('a conversation a person starts', () => {
  it('sends the first message as the writer and waits for the customer, marked as company-initiated', () => {
    const { start } = setup();
    const started = start();
    expect(started.created).toBe(true);
    expect(started.conversation).toMatchObject({ state: 'awaiting-customer', slaState: 'stopped', outreach: { by: 'ben', skill: 'billing' } });
    expect(started.conversation.startedBy).toBeUndefined();
    expect(started.effects).toContainEqual(
      expect.objectContaining({ type: 'outbound', message: expect.objectContaining({ agentId: 'ben', recipient: phone }) }),
    );
    expect(events(started.effects)[0]?.reason?.code).toBe('outreach.started');
    // The same id again from the same person sends nothing; from someone else it is refused.
    expect(start()).toMatchObject({ effects: [], created: false });
    expect(() => start({ starter: { staffId: 'ana', tier: Tier.TIER_FRONT_OFFICE, skill: '', noticeId: '' } })).toThrow(
      expect.objectContaining({ grpcStatus: 'FAILED_PRECONDITION' }),
    );
  });

  it("queues the customer's answer in the writer's queue and offers it to the writer first", () => {
    const { engine, start } = setup();
    start();
    const answer = engine.contactReceived(
      ContactReceived.fromPartial({
        contactId: 'in-1',
        conversationId: 'conv-out-1',
        channel: Channel.CHANNEL_SMS,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        sender: phone,
        // Words that alone would be classified as general.
        text: 'Thanks! Is there anything else I should do?',
      }),
      { customerId: 'cust-1' },
    );
    expect(engine.conversationState('conv-out-1')).toMatchObject({ queue: 'tier1/billing/sms', lastAgentId: 'ben' });
    expect(offers(answer)).toEqual(['ben']);
    expect(events(answer).find((e) => e.step?.$case === 'queued')?.reason?.code).toBe('conversation.answered');
  });

  it("marks a supervisor's notice as one", () => {
    const { start } = setup();
    const started = start({
      conversationId: 'conv-notice-1',
      starter: { staffId: 'sue', tier: Tier.TIER_FRONT_OFFICE, skill: 'general', noticeId: 'outage-7' },
    });
    expect(started.conversation.channelMetadata).toEqual({ 'initiated-by': 'notice', notice: 'outage-7' });
    expect(events(started.effects)[0]?.reason).toMatchObject({ code: 'notice.sent', text: 'sue sent notice outage-7 by sms' });
  });

  it('sends a WhatsApp start as the approved template on its first message only, its shape checked', () => {
    const { start } = setup();
    const contentSid = `HX${'a1'.repeat(16)}`;
    const whatsappTemplate = { contentSid, variablesJson: '{"1":"Kim"}', name: 'order_shipped' };
    const started = start({ channel: 'whatsapp', text: 'Hello Kim, your order has shipped.', whatsappTemplate });
    const out = started.effects.flatMap((e) => (e.type === 'outbound' ? [e.message] : []));
    expect(out[0]).toMatchObject({
      channel: Channel.CHANNEL_WHATSAPP,
      text: 'Hello Kim, your order has shipped.',
      channelMetadata: { 'whatsapp-content-sid': contentSid, 'whatsapp-content-variables': '{"1":"Kim"}', 'whatsapp-template': 'order_shipped' },
    });
    expect(started.conversation.channelMetadata['whatsapp-content-sid']).toBeUndefined();
    expect(events(started.effects)[0]?.reason?.text).toBe('ben started a whatsapp conversation with the template order_shipped');
    const refused = (over: Partial<StartRequest>) => () => start({ conversationId: 'conv-out-2', channel: 'whatsapp', ...over });
    expect(refused({ whatsappTemplate: { ...whatsappTemplate, contentSid: 'HX1' } })).toThrow('content_sid must be HX and 32 hexadecimal digits');
    expect(refused({ whatsappTemplate: { ...whatsappTemplate, variablesJson: '{"1":2}' } })).toThrow('variables_json must be an object');
    expect(refused({ whatsappTemplate: { ...whatsappTemplate, variablesJson: '[' } })).toThrow('variables_json is not JSON');
    expect(refused({ channel: 'sms', whatsappTemplate })).toThrow('whatsapp_template is for a conversation on WhatsApp');
    expect(refused({ channel: 'whatsapp', starter: { application: 'crm' } })).toThrow('a company-initiated conversation is on email or SMS');
  });
});

describe('quiet hours', () => {
  it('refuse an SMS the company starts inside them, with when it may go, and let email through', () => {
    // 22:30 in Paris (UTC+1 in January).
    const { start } = setup(Date.UTC(2026, 0, 5, 21, 30, 0), '21:00-08:00');
    expect(() => start()).toThrow(
      expect.objectContaining({
        grpcStatus: 'FAILED_PRECONDITION',
        message: 'quiet hours: the company does not start SMS conversations between 21:00 and 08:00 (Europe/Paris); send it after 08:00',
      }),
    );
    expect(start({ channel: 'email', recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'kim@example.org', namespace: '' } }).created).toBe(true);
  });

  it('run over midnight, in the zone, and are refused when they do not parse', () => {
    const q = parseQuietHours('21:00-08:00', 'Europe/Paris');
    expect(inQuietHours(q, Date.UTC(2026, 0, 5, 6, 59))).toBe(true); // 07:59 in Paris
    expect(inQuietHours(q, Date.UTC(2026, 0, 5, 7, 0))).toBe(false); // 08:00
    expect(inQuietHours(q, Date.UTC(2026, 6, 5, 19, 0))).toBe(true); // 21:00 in summer (UTC+2)
    expect(inQuietHours(parseQuietHours('12:00-14:00', 'UTC'), Date.UTC(2026, 0, 5, 13, 0))).toBe(true);
    expect(quietHoursText(q)).toContain('between 21:00 and 08:00 (Europe/Paris)');
    expect(() => parseQuietHours('21:00-21:00', 'UTC')).toThrow('two different times');
    expect(() => parseQuietHours('25:00-08:00', 'UTC')).toThrow('HH:MM-HH:MM');
    expect(() => parseQuietHours('21:00-08:00', 'Mars/Olympus')).toThrow('not a known time zone');
  });
});
