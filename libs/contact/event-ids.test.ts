import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { eventId, idDigest } from './event-ids';

describe('event ids', () => {
  it('join the parts as each producer always has', () => {
    expect(eventId('chat', 'chat', 'v_1', 'm-1')).toBe('chat:v_1:m-1');
    expect(eventId('chat', 'chat-survey', 'c_1')).toBe('chat-survey:c_1');
    expect(eventId('email', 'ack', 'conv-1')).toBe('ack-conv-1');
    expect(eventId('sms-voice', 'sms-status', 'SM1', 'delivered')).toBe('sms-status-SM1-delivered');
    expect(eventId('routing', 'conv-1', 12)).toBe('conv-1/12');
    expect(eventId('routing', 'conv-1', 'out', 3, 7)).toBe('conv-1/out/3/7');
  });

  it('are the same for the same input', () => {
    expect(eventId('sms-voice', 'call-ended', 'CA1')).toBe(eventId('sms-voice', 'call-ended', 'CA1'));
    expect(eventId('email', 'email', idDigest('message-id:<a@b>'))).toBe(eventId('email', 'email', idDigest('message-id:<a@b>')));
  });

  it('digest a part to 32 hex characters of its SHA-256', () => {
    const basis = 'message-id:<1@example.com>';
    expect(idDigest(basis)).toBe(createHash('sha256').update(basis).digest('hex').slice(0, 32));
    expect(idDigest(basis)).toMatch(/^[0-9a-f]{32}$/);
    expect(idDigest('x/true')).not.toBe(idDigest('x/false'));
  });
});
