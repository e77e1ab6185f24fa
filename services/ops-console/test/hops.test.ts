// A conversation's hops and the links to its trace, without I/O.
import { describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ContactReceived, ConversationEvent, Tier } from '#libs/proto';
import { loadOpsConsoleConfig } from '../src/config';
import { conversationHops } from '../src/hops';
import { describeRecord, type DescribedRecord } from '../src/records';
import { traceIdOf, withTraceLink } from '../src/trace-links';

const at = (seconds: number) => new Date(Date.UTC(2026, 0, 1, 10, 0, seconds));

function contact(seconds: number, headers: Record<string, string> = {}): DescribedRecord {
  const value = ContactReceived.fromPartial({ contactId: 'c-1', conversationId: 'conv-1', channel: Channel.CHANNEL_EMAIL, receivedAt: at(seconds) });
  return describeRecord({
    topic: topics.contactInbound.name,
    partition: 0,
    offset: '1',
    key: Buffer.from('conv-1'),
    value: Buffer.from(ContactReceived.encode(value).finish()),
    headers: { ce_type: topics.contactInbound.type, ...headers },
  });
}

/** A step given in part (fromPartial fills the rest). */
function step(seconds: number, s: { $case: string } & Record<string, unknown>): DescribedRecord {
  const value = ConversationEvent.fromPartial({
    eventId: `e-${seconds}`,
    conversationId: 'conv-1',
    occurredAt: at(seconds),
    step: s as ConversationEvent['step'],
  });
  return describeRecord({
    topic: topics.conversationEvents.name,
    partition: 0,
    offset: String(seconds),
    key: Buffer.from('conv-1'),
    value: Buffer.from(ConversationEvent.encode(value).finish()),
    headers: { ce_type: topics.conversationEvents.type },
  });
}

const queued = { $case: 'queued', queued: { queue: 'email', skill: 'general', tier: Tier.TIER_FRONT_OFFICE, position: 1 } } as const;
const offered = { $case: 'offered', offered: { agentId: 'ana' } } as const;
const assigned = { $case: 'assigned', assigned: { agentId: 'ana', tier: Tier.TIER_FRONT_OFFICE } } as const;
const replied = { $case: 'replied', replied: { agentId: 'ana', outboundMessageId: 'out-2', text: 'Hello' } } as const;
const delivered = (id: string, ok = true) => ({ $case: 'deliveryReported', deliveryReported: { outboundMessageId: id, delivered: ok } }) as const;

describe("a conversation's hops", () => {
  it('gives each hop of the journey with the time since the previous one and since the contact was received', () => {
    const records = [
      step(3, offered),
      contact(0),
      step(1, queued),
      step(2, delivered('ack-1')),
      step(20, assigned),
      step(80, replied),
      step(81, delivered('out-2')),
      step(90, offered),
    ];
    expect(conversationHops(records)).toEqual([
      { hop: 'received', at: '2026-01-01T10:00:00.000Z', sincePreviousMs: null, sinceReceivedMs: 0 },
      { hop: 'queued', at: '2026-01-01T10:00:01.000Z', sincePreviousMs: 1000, sinceReceivedMs: 1000 },
      { hop: 'offered', at: '2026-01-01T10:00:03.000Z', sincePreviousMs: 2000, sinceReceivedMs: 3000 },
      { hop: 'accepted', at: '2026-01-01T10:00:20.000Z', sincePreviousMs: 17_000, sinceReceivedMs: 20_000 },
      { hop: 'replied', at: '2026-01-01T10:01:20.000Z', sincePreviousMs: 60_000, sinceReceivedMs: 80_000 },
      // The acknowledgement delivered at 2 s is not the answer.
      { hop: 'delivered', at: '2026-01-01T10:01:21.000Z', sincePreviousMs: 1000, sinceReceivedMs: 81_000 },
    ]);
  });

  it('leaves out hops that did not happen, and counts neither a failed delivery nor one of another message', () => {
    const hops = conversationHops([step(1, queued), step(5, replied), step(6, delivered('out-2', false)), step(7, delivered('other'))]);
    expect(hops.map((h) => h.hop)).toEqual(['queued', 'replied']);
    expect(hops[0]!.sinceReceivedMs).toBeNull();
    expect(hops[1]!.sincePreviousMs).toBe(4000);
    expect(conversationHops([])).toEqual([]);
  });
});

describe('links to traces', () => {
  const traceparent = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

  it("reads a record's trace id from a well-formed traceparent only", () => {
    expect(contact(0, { traceparent }).traceId).toBe('4bf92f3577b34da6a3ce929d0e0e4736');
    expect(contact(0).traceId).toBeUndefined();
    for (const bad of [
      '',
      'garbage',
      '00-00000000000000000000000000000000-00f067aa0ba902b7-01',
      `00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01`,
      `${traceparent}"><x`,
    ])
      expect(traceIdOf(bad)).toBeUndefined();
  });

  it('links to the configured trace UI, and not at all without one', () => {
    const record = contact(0, { traceparent });
    expect(withTraceLink(record, 'http://localhost:16686/trace/{traceId}').traceUrl).toBe('http://localhost:16686/trace/4bf92f3577b34da6a3ce929d0e0e4736');
    expect(withTraceLink(record, undefined)).not.toHaveProperty('traceUrl');
    expect(withTraceLink(contact(0), 'http://jaeger/trace/{traceId}')).not.toHaveProperty('traceUrl');
  });

  it('takes only an http(s) trace UI address that names {traceId}', () => {
    const env = { OPS_CONSOLE_SESSION_SECRET: 'a-test-secret-that-is-long-enough-0123456789' };
    expect(loadOpsConsoleConfig({ ...env, OPS_CONSOLE_TRACE_URL: 'https://grafana.example.com/explore?trace={traceId}' }).OPS_CONSOLE_TRACE_URL).toContain(
      '{traceId}',
    );
    for (const bad of ['javascript:alert({traceId})', 'http://localhost:16686/trace/', 'http://a b/{traceId}'])
      expect(() => loadOpsConsoleConfig({ ...env, OPS_CONSOLE_TRACE_URL: bad })).toThrow(/OPS_CONSOLE_TRACE_URL/);
  });
});
