import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { OutboundKind, OutboundMessage, Channel } from '#libs/proto';
import { newConversationReference as newReference } from '#libs/contact';
import { contactEventId, outboundEffect, waitFrame } from '../src/conversation';
import { FrameError, parseClientFrame, profileClaims, parseHello } from '../src/protocol';
import { TokenBucket } from '../src/rate-limit';
import { InvalidTokenError, issueVisitorToken, verifyVisitorToken } from '../src/token';

const SECRET = 'unit-secret-0123456789-abcdefghijklmnop';
const claims = { visitorId: 'v_abcdefgh12', conversationId: 'c_abcdefgh12', reference: 'ABC234' };

describe('visitor tokens', () => {
  it('round-trips and refuses tampering, other keys and expiry', () => {
    const now = Date.UTC(2026, 0, 1);
    const token = issueVisitorToken(SECRET, claims, 60, now);
    expect(verifyVisitorToken(SECRET, token, now)).toMatchObject(claims);
    const reason = (fn: () => unknown) => {
      try {
        fn();
      } catch (err) {
        return (err as InvalidTokenError).reason;
      }
      return 'accepted';
    };
    expect(reason(() => verifyVisitorToken('x'.repeat(40), token, now))).toBe('bad-signature');
    expect(reason(() => verifyVisitorToken(SECRET, token, now + 61_000))).toBe('expired');
    expect(reason(() => verifyVisitorToken(SECRET, 'a.b.c', now))).toBe('malformed');
    expect(reason(() => verifyVisitorToken(SECRET, 42, now))).toBe('malformed');
    const [body, sig] = token.split('.');
    const other = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body!, 'base64url').toString()), c: 'c_someoneelse' })).toString('base64url');
    expect(reason(() => verifyVisitorToken(SECRET, `${other}.${sig}`, now))).toBe('bad-signature');
  });

  it('never accepts an arbitrary string', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        expect(() => verifyVisitorToken(SECRET, s)).toThrow(InvalidTokenError);
      }),
    );
  });
});

describe('rate limit', () => {
  it('allows a burst, refuses a flood, refills with time', () => {
    const bucket = new TokenBucket(3, 1, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([true, true, true, false]);
    expect(bucket.take(999)).toBe(false);
    expect(bucket.take(1000)).toBe(true);
    expect(bucket.take(60_000) && bucket.take(60_000) && bucket.take(60_000) && !bucket.take(60_000)).toBe(true);
  });
});

describe('frames', () => {
  it('validates hello and message frames with specific errors', () => {
    expect(parseHello('{"type":"hello"}')).toEqual({ type: 'hello', lastSeq: 0 });
    expect(() => parseHello('{"type":"message"}')).toThrow(FrameError);
    expect(() => parseClientFrame('{')).toThrow('not valid JSON');
    expect(() => parseClientFrame('{"type":"message","clientMessageId":"a","text":"   "}')).toThrow('text is empty');
    expect(() => parseClientFrame('{"type":"survey-answer","score":9}')).toThrow(/score/);
    expect(parseClientFrame('{"type":"message","clientMessageId":"a1","text":" hi\\u0007 there "}')).toEqual({
      type: 'message',
      clientMessageId: 'a1',
      text: 'hi there',
    });
  });

  it('cleans the name, email and phone a visitor typed (claims), dropping invalid ones', () => {
    expect(profileClaims({ name: ' Ana ', email: 'Ana@Example.COM ', phone: ' +44 7700 900123 ' })).toEqual({
      name: 'Ana',
      email: 'ana@example.com',
      phone: '+44 7700 900123',
    });
    expect(profileClaims({ email: 'not-an-email', phone: 'call me' })).toEqual({});
  });
});

describe('conversation bookkeeping', () => {
  it('derives a stable event id and readable references', () => {
    expect(contactEventId('v1', 'm1')).toBe(contactEventId('v1', 'm1'));
    expect(newReference()).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
  });

  it('maps outbound kinds to entries, live frames or nothing', () => {
    const out = (p: Partial<OutboundMessage>) => OutboundMessage.fromPartial({ conversationId: 'c', channel: Channel.CHANNEL_CHAT, ...p });
    expect(outboundEffect(out({ kind: OutboundKind.OUTBOUND_KIND_REPLY, text: 'hi' }))).toMatchObject({
      action: 'entry',
      entry: { from: 'agent', kind: 'message' },
    });
    expect(outboundEffect(out({ kind: OutboundKind.OUTBOUND_KIND_REPLY, text: ' ' })).action).toBe('ignore');
    expect(outboundEffect(out({ kind: OutboundKind.OUTBOUND_KIND_TYPING }))).toMatchObject({ action: 'transient', frame: { type: 'typing' } });
    expect(outboundEffect(out({ kind: OutboundKind.OUTBOUND_KIND_STATUS_UPDATE, queuePosition: 2, estimatedWaitMs: 5000 }))).toMatchObject({
      action: 'transient',
      wait: { position: 2, estimatedWaitMs: 5000 },
    });
    const opens = new Date('2026-12-07T08:00:00Z');
    const closed = out({
      kind: OutboundKind.OUTBOUND_KIND_STATUS_UPDATE,
      text: 'We are closed now.',
      queuePosition: 1,
      estimatedWaitMs: 9000,
      closedUntil: opens,
      hours: 'Mon-Fri 9-18',
    });
    const closedInfo = { until: opens.toISOString(), notice: 'We are closed now.', hours: 'Mon-Fri 9-18' };
    expect(outboundEffect(closed)).toMatchObject({
      action: 'transient',
      frame: { type: 'wait', closed: closedInfo },
      wait: { position: 1, closed: closedInfo },
    });
    expect(outboundEffect(closed, 'help@example.com')).toMatchObject({ frame: { closed: { ...closedInfo, email: 'help@example.com' } } });
    expect(outboundEffect(out({ kind: OutboundKind.OUTBOUND_KIND_CONVERSATION_ENDED }))).toMatchObject({ action: 'entry', ends: true });
    expect(outboundEffect(out({ kind: OutboundKind.OUTBOUND_KIND_CONNECT_CALL })).action).toBe('ignore');
  });

  it('tells the SLA target until routing sent an estimate', () => {
    expect(waitFrame(undefined, 60_000)).toEqual({ type: 'wait', position: null, estimatedWaitMs: 60_000, source: 'target' });
    expect(waitFrame({ position: 4, estimatedWaitMs: 120_000 }, 60_000)).toMatchObject({ position: 4, source: 'routing' });
  });
});
