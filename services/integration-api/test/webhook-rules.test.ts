// The webhooks' pure parts: the signature, the retry schedule, which targets are refused, and
// which records become which events.
import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ConsumedEvent } from '#libs/kafka';
import { Channel, ConversationEvent, CustomerMerged, IdentityKind, OutboundKind, OutboundMessage, SlaEvent, SlaEventKind, Tier } from '#libs/proto';
import { conversationEventOf, mergeEventOf, outboundEventOf, payloadOf, slaEventOf } from '../src/webhooks/events';
import { nextAttemptAt } from '../src/webhooks/schedule';
import { createSender } from '../src/webhooks/sender';
import { newSecret, signedHeaders } from '../src/webhooks/signing';
import { checkTargetUrl, guardedLookup, isAllowedAddress } from '../src/webhooks/targets';

const consumed = <T>(value: T, id = 'ev-1'): ConsumedEvent<T> => ({
  value,
  event: { id, source: 's', type: 't', time: '2026-12-01T10:00:00.000Z', specversion: '1.0' },
  topic: 't',
  partition: 0,
  offset: '0',
  key: null,
  headers: {},
});

describe('signing', () => {
  it('signs <id>.<timestamp>.<body> with HMAC-SHA256 of the decoded secret, as Standard Webhooks does', () => {
    const secret = newSecret();
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const at = new Date('2026-12-01T10:00:00.500Z');
    const headers = signedHeaders([secret], 'msg_1', at, '{"a":1}');
    expect(headers['webhook-timestamp']).toBe('1796119200');
    const expected = createHmac('sha256', Buffer.from(secret.slice(6), 'base64'))
      .update('msg_1.1796119200.{"a":1}')
      .digest('base64');
    expect(headers['webhook-signature']).toBe(`v1,${expected}`);
  });

  it('sends one signature per secret while a rotated one is honoured', () => {
    const headers = signedHeaders([newSecret(), newSecret()], 'msg_1', new Date(), 'x');
    expect(headers['webhook-signature']!.split(' ')).toHaveLength(2);
  });
});

describe('retry schedule', () => {
  const schedule = { firstRetryMs: 10_000, maxWaitMs: 4 * 3_600_000, giveUpAfterMs: 24 * 3_600_000 };
  const start = new Date('2026-12-01T00:00:00Z');

  it('triples the wait from 10 s, caps it at 4 h, jitters it by up to 20 % less, and stops after a day', () => {
    const waits: number[] = [];
    let now = start;
    for (let made = 1; ; made++) {
      const at = nextAttemptAt(schedule, start, made, now, () => 1);
      if (!at) break;
      waits.push(at.getTime() - now.getTime());
      now = at;
    }
    expect(waits.slice(0, 8)).toEqual([10_000, 30_000, 90_000, 270_000, 810_000, 2_430_000, 7_290_000, 14_400_000]);
    expect(waits.length).toBeGreaterThan(10);
    expect(now.getTime() - start.getTime()).toBeLessThanOrEqual(schedule.giveUpAfterMs);
    const low = nextAttemptAt(schedule, start, 1, start, () => 0)!;
    expect(low.getTime() - start.getTime()).toBe(8_000);
  });

  it('gives up once the next attempt would be past the day', () => {
    const late = new Date(start.getTime() + 23.9 * 3_600_000);
    expect(nextAttemptAt(schedule, start, 12, late, () => 1)).toBeUndefined();
  });
});

describe('target checks', () => {
  const refused = [
    'http://127.0.0.1/',
    'http://2130706433/',
    'http://0x7f.1/',
    'http://017700000001/',
    'http://127.1/',
    'http://[::1]/',
    'http://[::ffff:127.0.0.1]/',
    'http://[::ffff:10.0.0.1]/',
    'http://10.1.2.3/',
    'http://172.16.0.1/',
    'http://192.168.1.1/',
    'http://169.254.169.254/latest/meta-data/',
    'http://[fe80::1]/',
    'http://[fd00::1]/',
    'http://0.0.0.0/',
    'http://0/',
    'http://[::]/',
    'http://224.0.0.1/',
    'http://100.64.0.1/',
    'http://[64:ff9b::7f00:1]/',
    'http://[2002:7f00:1::]/',
    'http://192.0.2.1/',
    'http://localhost/',
    'http://intranet/',
    'ftp://example.org/',
    'http://user:pw@example.org/',
    'https://example.org/#x',
    'not a url',
  ];
  it.each(refused)('refuses %s', (url) => expect(() => checkTargetUrl(url, false)).toThrow(/url:/));

  it('accepts public http(s) URLs', () => {
    for (const url of ['https://hooks.example.org/cc?x=1', 'http://8.8.8.8:8080/in', 'https://[2606:4700::1111]/'])
      expect(checkTargetUrl(url, false).href).toBe(url);
  });

  it('lets a development setting through to loopback and private addresses, never to link-local ones', () => {
    expect(checkTargetUrl('http://127.0.0.1:9999/', true).port).toBe('9999');
    expect(isAllowedAddress('10.0.0.1', true)).toBe(true);
    expect(isAllowedAddress('::ffff:127.0.0.1', true)).toBe(true);
    expect(isAllowedAddress('169.254.169.254', true)).toBe(false);
    expect(isAllowedAddress('fe80::1', true)).toBe(false);
    expect(isAllowedAddress('::ffff:169.254.169.254', true)).toBe(false);
  });
});

describe('event mapping', () => {
  const step = (s: ConversationEvent['step'], code = '') =>
    conversationEventOf(
      consumed(
        ConversationEvent.fromPartial({
          conversationId: 'conv-1',
          channel: Channel.CHANNEL_EMAIL,
          customerId: 'cust-1',
          occurredAt: new Date('2026-12-01T09:00:00Z'),
          reason: { code },
          step: s,
        } as never),
      ),
    );
  const queued = { $case: 'queued' as const, queued: { queue: 'tier1/general/email', tier: Tier.TIER_FRONT_OFFICE } as never };

  it('opens a conversation on its first queueing only, new or reopened', () => {
    expect(step(queued, 'conversation.new')).toMatchObject({
      id: 'ev-1',
      type: 'conversation.opened',
      data: { conversationId: 'conv-1', channel: 'email', customerId: 'cust-1', reopened: false, queue: 'tier1/general/email' },
    });
    expect(step(queued, 'conversation.reopened')?.data.reopened).toBe(true);
    expect(step(queued, 'rule.high_risk')?.type).toBe('conversation.opened');
    expect(step(queued, 'agent.escalated')).toBeUndefined();
    expect(step(queued, 'offer.declined')).toBeUndefined();
  });

  it('maps assigned, escalated, resolved and survey answers, without the customer’s comment; other steps are none', () => {
    expect(step({ $case: 'assigned', assigned: { agentId: 'a-1', tier: Tier.TIER_EXPERT, waitedMs: 5 } })).toMatchObject({
      type: 'conversation.assigned',
      data: { agentId: 'a-1', tier: 'expert', waitedMs: 5 },
    });
    expect(step({ $case: 'escalated', escalated: { fromAgentId: '', note: 'n', queue: 'q', skill: 's', automatic: true } })?.type).toBe(
      'conversation.escalated',
    );
    expect(step({ $case: 'resolved', resolved: { agentId: 'a-1', disposition: 'answered' } })?.data).toMatchObject({ disposition: 'answered' });
    const survey = step({
      $case: 'surveyAnswered',
      surveyAnswered: { question: 'How did we do?', score: 4, comment: 'my address is…', agentId: '', queue: '' },
    });
    expect(survey?.type).toBe('survey.answered');
    expect(JSON.stringify(survey)).not.toContain('my address');
    expect(step({ $case: 'replied', replied: { agentId: 'a', outboundMessageId: 'o', text: 't', attachments: [] } })).toBeUndefined();
  });

  it('takes SLA breaches only, and merges', () => {
    expect(slaEventOf(consumed(SlaEvent.fromPartial({ conversationId: 'c', kind: SlaEventKind.SLA_EVENT_KIND_BREACH, targetMs: 10 })))?.type).toBe(
      'sla.breached',
    );
    expect(slaEventOf(consumed(SlaEvent.fromPartial({ kind: SlaEventKind.SLA_EVENT_KIND_WARNING })))).toBeUndefined();
    expect(
      mergeEventOf(consumed(CustomerMerged.fromPartial({ mergeId: 'm', targetCustomerId: 't', sourceCustomerId: 's', cause: 'supervisor' }))),
    ).toMatchObject({
      type: 'customer.merged',
      data: { mergeId: 'm', targetCustomerId: 't', sourceCustomerId: 's' },
    });
  });

  it('sends the replies to an API conversation to its own application only', () => {
    const out = (over: Partial<OutboundMessage>) =>
      outboundEventOf(
        consumed(
          OutboundMessage.fromPartial({
            messageId: 'out-1',
            conversationId: 'conv-1',
            channel: Channel.CHANNEL_API,
            kind: OutboundKind.OUTBOUND_KIND_REPLY,
            recipient: { kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'cust-42', namespace: 'api.shop' },
            text: 'Your parcel left today.',
            ...over,
          }),
        ),
      );
    expect(out({})).toMatchObject({
      type: 'message.sent',
      application: 'shop',
      data: { kind: 'reply', text: 'Your parcel left today.', customer: { id: 'cust-42' } },
    });
    expect(out({ channel: Channel.CHANNEL_EMAIL })).toBeUndefined();
    expect(out({ kind: OutboundKind.OUTBOUND_KIND_TYPING })).toBeUndefined();
    expect(out({ recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'a@b.c', namespace: '' } })).toBeUndefined();
  });

  it('writes the body as id, type, occurredAt and data', () => {
    const event = step({ $case: 'resolved', resolved: { agentId: 'a-1', disposition: 'answered' } })!;
    expect(JSON.parse(payloadOf(event))).toEqual({
      id: 'ev-1',
      type: 'conversation.resolved',
      occurredAt: '2026-12-01T09:00:00.000Z',
      data: { conversationId: 'conv-1', channel: 'email', customerId: 'cust-1', agentId: 'a-1', disposition: 'answered' },
    });
  });
});

describe('the connection check', () => {
  it('refuses, in the lookup the connection uses, a name that resolves to loopback, and a socket connected to one', async () => {
    const lookupOf = (allowPrivate: boolean) =>
      new Promise<{ err: Error | null; address: unknown }>((resolve) =>
        guardedLookup(allowPrivate)('localhost', { all: true }, (err, address) => resolve({ err, address })),
      );
    expect((await lookupOf(false)).err?.message).toMatch(/resolves to (127\.0\.0\.1|::1), which is not a public address/);
    expect((await lookupOf(true)).err).toBeNull();
    const server = http.createServer((_req, res) => res.writeHead(204).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const strict = createSender({ timeoutMs: 2000, allowPrivate: false, userAgent: 'test' });
    const loose = createSender({ timeoutMs: 2000, allowPrivate: true, userAgent: 'test' });
    try {
      expect(await strict.send(`http://127.0.0.1:${port}/`, {}, '{}')).toMatchObject({ ok: false, error: expect.stringMatching(/not a public address/) });
      expect(await loose.send(`http://127.0.0.1:${port}/`, {}, '{}')).toMatchObject({ ok: true, statusCode: 204 });
    } finally {
      strict.close();
      loose.close();
      server.close();
    }
  });

  it('follows no redirect and counts it as a failed attempt', async () => {
    const server = http.createServer((_req, res) => res.writeHead(302, { location: 'http://169.254.169.254/' }).end());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const sender = createSender({ timeoutMs: 2000, allowPrivate: true, userAgent: 'test' });
    try {
      expect(await sender.send(`http://127.0.0.1:${port}/`, {}, '{}')).toMatchObject({ ok: false, statusCode: 302, error: 'redirects are not followed' });
    } finally {
      sender.close();
      server.close();
    }
  });
});
