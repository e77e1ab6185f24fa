// The spool's plain modules: its line format with checksums, and its bounds, order and routing.
import { describe, expect, it } from 'vitest';
import { crc32 } from 'node:zlib';
import { Channel, ContactKind, ContactReceived, ConversationEvent } from '#libs/proto';
import { retryDelayMs, routeOf, SpoolQueue } from '../src/spool-queue';
import { contactOf, decodeSpoolSegment, encodeSpoolLine, messageOf, spoolEventRecordOf, spoolRecordOf } from '../src/spool-records';

const contact = (n: number, conversationId = `conv-${n}`) =>
  ContactReceived.fromPartial({
    contactId: `sms-SM${n}`,
    conversationId,
    channel: Channel.CHANNEL_SMS,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    text: `line one\nline two ${n} 🚨`,
    externalId: `SM${n}`,
  });
const at = new Date('2026-12-01T10:00:00Z');

describe('spool line format', () => {
  it('writes one line a record and reads back the same contact, id and key', () => {
    const lines = [1, 2, 3].map((n) => encodeSpoolLine(spoolRecordOf(contact(n), at)));
    for (const line of lines) expect(line.indexOf(0x0a)).toBe(line.length - 1);
    const { records, skipped } = decodeSpoolSegment(Buffer.concat(lines));
    expect(skipped).toEqual([]);
    expect(records.map((r) => [r.record.id, r.record.key, r.record.spooledAt])).toEqual([1, 2, 3].map((n) => [`sms-SM${n}`, `conv-${n}`, at.toISOString()]));
    expect(contactOf(records[1]!.record)).toEqual(contact(2));
    expect(records.map((r) => r.end)).toEqual([lines[0]!.length, lines[0]!.length + lines[1]!.length, Buffer.concat(lines).length]);
  });

  it('keeps conversation events beside contacts, each read back as its own kind', () => {
    const event = ConversationEvent.fromPartial({
      eventId: 'call-ended-CA1',
      conversationId: 'conv-CA1',
      channel: Channel.CHANNEL_VOICE,
      step: { $case: 'callEnded', callEnded: { durationMs: 42_000, status: 'completed' } },
    });
    const { records, skipped } = decodeSpoolSegment(
      Buffer.concat([encodeSpoolLine(spoolRecordOf(contact(1), at)), encodeSpoolLine(spoolEventRecordOf(event, at))]),
    );
    expect(skipped).toEqual([]);
    expect(records.map((r) => messageOf(r.record))).toEqual([
      { kind: 'contact', value: contact(1) },
      { kind: 'event', value: event },
    ]);
  });

  it('reads a line written by the version before kinds as a contact', () => {
    const json = JSON.stringify({
      v: 1,
      id: 'sms-SM1',
      key: 'conv-1',
      at: at.toISOString(),
      value: Buffer.from(ContactReceived.encode(contact(1)).finish()).toString('base64'),
    });
    const { records } = decodeSpoolSegment(Buffer.from(`${crc32(json).toString(16).padStart(8, '0')} ${json}\n`));
    expect(records.map((r) => messageOf(r.record))).toEqual([{ kind: 'contact', value: contact(1) }]);
  });

  it('skips a torn last write, and keeps every record before it', () => {
    const good = encodeSpoolLine(spoolRecordOf(contact(1), at));
    const torn = encodeSpoolLine(spoolRecordOf(contact(2), at)).subarray(0, 40);
    const { records, skipped } = decodeSpoolSegment(Buffer.concat([good, torn]));
    expect(records.map((r) => r.record.id)).toEqual(['sms-SM1']);
    expect(skipped).toEqual([{ offset: good.length, reason: 'torn', detail: '40 bytes without a line end' }]);
  });

  it('skips a damaged line in the middle by its checksum, and reads on', () => {
    const lines = [1, 2, 3].map((n) => encodeSpoolLine(spoolRecordOf(contact(n), at)));
    const damaged = Buffer.from(lines[1]!);
    damaged[30] = damaged[30] === 0x41 ? 0x42 : 0x41;
    const { records, skipped } = decodeSpoolSegment(Buffer.concat([lines[0]!, damaged, lines[2]!]));
    expect(records.map((r) => r.record.id)).toEqual(['sms-SM1', 'sms-SM3']);
    expect(skipped).toMatchObject([{ offset: lines[0]!.length, reason: 'checksum' }]);
  });

  it('calls lines that are not records malformed, without quoting them', () => {
    const { records, skipped } = decodeSpoolSegment(Buffer.from('hello +14155550100\n\n'));
    expect(records).toEqual([]);
    expect(skipped.map((s) => s.reason)).toEqual(['malformed', 'malformed']);
    expect(JSON.stringify(skipped)).not.toContain('4155550100');
  });
});

describe('spool queue', () => {
  it('forwards only durable records, oldest first, in rounds of bounded size', () => {
    const queue = new SpoolQueue<number>({ maxRecords: 10, maxBytes: 1000 });
    const entries = [1, 2, 3, 4].map((n) => queue.reserve(`id-${n}`, 'conv', 100));
    const [a, b, c, d] = entries.map((e) => (e.kind === 'reserved' ? e.entry : undefined)!);
    queue.written(b!, 2);
    expect(queue.next(10, 1000)).toEqual([]); // the first is still being written
    queue.written(a!, 1);
    queue.written(d!, 4);
    expect(queue.next(10, 1000).map((e) => e.id)).toEqual(['id-1', 'id-2']);
    queue.written(c!, 3);
    expect(queue.next(3, 1000).map((e) => e.id)).toEqual(['id-1', 'id-2', 'id-3']);
    expect(queue.next(10, 250).map((e) => e.id)).toEqual(['id-1', 'id-2']);
    queue.forwarded(2);
    expect(queue.next(10, 1000).map((e) => e.position)).toEqual([3, 4]);
    expect(queue.depth).toBe(2);
    expect(queue.bytes).toBe(200);
  });

  it('refuses past either bound, and gives a failed write its place back', () => {
    const byCount = new SpoolQueue<number>({ maxRecords: 2, maxBytes: 1000 });
    expect(byCount.reserve('a', 'k', 10).kind).toBe('reserved');
    const second = byCount.reserve('b', 'k', 10);
    expect(byCount.reserve('c', 'k', 10)).toMatchObject({ kind: 'full', reason: 'the spool holds its maximum of 2 records' });
    if (second.kind === 'reserved') byCount.release(second.entry);
    expect(byCount.reserve('c', 'k', 10).kind).toBe('reserved');
    const byBytes = new SpoolQueue<number>({ maxRecords: 10, maxBytes: 25 });
    expect(byBytes.reserve('a', 'k', 20).kind).toBe('reserved');
    expect(byBytes.reserve('b', 'k', 10)).toMatchObject({ kind: 'full', reason: 'the spool holds 20 of its 25 bytes' });
    expect(byBytes.hasRoom(5)).toBe(true);
    expect(new SpoolQueue<number>({ maxRecords: 0, maxBytes: 25 }).reserve('a', 'k', 1)).toMatchObject({ kind: 'full' });
  });

  it('keeps one copy of an event spooled twice (a Twilio retry)', () => {
    const queue = new SpoolQueue<number>({ maxRecords: 10, maxBytes: 1000 });
    const first = queue.reserve('sms-SM1', 'conv', 10);
    expect(queue.reserve('sms-SM1', 'conv', 10)).toEqual({ kind: 'duplicate', entry: first.kind === 'reserved' && first.entry });
    expect(queue.restore('sms-SM1', 'conv', 10, 7)).toBeUndefined();
    expect(queue.depth).toBe(1);
  });

  it('queues a contact behind its conversation, and spools at once while the broker is down', () => {
    const queue = new SpoolQueue<number>({ maxRecords: 10, maxBytes: 1000 });
    expect(routeOf(queue, 'conv-1', false)).toBe('publish');
    expect(routeOf(queue, 'conv-1', true)).toBe('publish'); // nothing waits: try Kafka first
    const held = queue.reserve('sms-1', 'conv-1', 10);
    expect(routeOf(queue, 'conv-1', false)).toBe('spool');
    expect(routeOf(queue, 'conv-2', false)).toBe('publish');
    expect(routeOf(queue, 'conv-2', true)).toBe('spool');
    if (held.kind === 'reserved') queue.written(held.entry, 1);
    queue.forwarded(1);
    expect(routeOf(queue, 'conv-1', false)).toBe('publish');
    expect(routeOf(new SpoolQueue<number>({ maxRecords: 0, maxBytes: 1 }), 'conv-1', true)).toBe('publish');
  });

  it('backs off from half a second to five', () => {
    expect([1, 2, 3, 4, 5, 10].map(retryDelayMs)).toEqual([500, 1000, 2000, 4000, 5000, 5000]);
  });
});
