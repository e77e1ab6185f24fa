import { describe, expect, it } from 'vitest';
import { Channel } from '#libs/proto';
import { bareNumber, isWhatsAppAddress, messagingAddress, REPLY_WINDOW_MS, replyWindow, windowClosedDetail } from '../src/whatsapp';
import { keywordReply } from '../src/texts';

describe('WhatsApp addresses', () => {
  it('are told from phone numbers by their prefix, in any case', () => {
    expect(isWhatsAppAddress('whatsapp:+14155550100')).toBe(true);
    expect(isWhatsAppAddress('WhatsApp:+14155550100')).toBe(true);
    expect(isWhatsAppAddress('+14155550100')).toBe(false);
    expect(isWhatsAppAddress(undefined)).toBe(false);
  });

  it('give the bare number for the customer identity and the prefixed one on the channel', () => {
    expect(bareNumber('whatsapp:+14155550100')).toBe('+14155550100');
    expect(bareNumber('+14155550100')).toBe('+14155550100');
    expect(messagingAddress(Channel.CHANNEL_WHATSAPP, '+14155550100')).toBe('whatsapp:+14155550100');
    expect(messagingAddress(Channel.CHANNEL_SMS, '+14155550100')).toBe('+14155550100');
  });
});

describe('the 24-hour reply window', () => {
  const now = new Date('2026-12-02T12:00:00Z');

  it('is open until 24 hours after the customer last wrote', () => {
    const last = new Date(now.getTime() - REPLY_WINDOW_MS + 60_000);
    expect(replyWindow(last, now)).toEqual({ open: true, closesAt: new Date(now.getTime() + 60_000) });
  });

  it('is closed at 24 hours, and when the customer never wrote', () => {
    const last = new Date(now.getTime() - REPLY_WINDOW_MS);
    expect(replyWindow(last, now)).toEqual({ open: false, closedAt: now });
    expect(replyWindow(undefined, now)).toEqual({ open: false });
  });

  it('says to the agent what was sent instead, or that nothing was', () => {
    expect(windowClosedDetail({ open: false, closedAt: now }, true)).toContain('closed at 2026-12-02T12:00:00.000Z');
    expect(windowClosedDetail({ open: false, closedAt: now }, true)).toContain('approved template asking them to reply was sent');
    expect(windowClosedDetail({ open: false }, false)).toContain('nothing was sent');
  });
});

describe('keyword answers', () => {
  it('confirm STOP and START on WhatsApp, where no carrier does, and leave them to Twilio on SMS', () => {
    expect(keywordReply('stop', Channel.CHANNEL_WHATSAPP)).toContain('no more WhatsApp messages');
    expect(keywordReply('start', Channel.CHANNEL_WHATSAPP)).toContain('receive our WhatsApp messages again');
    expect(keywordReply('stop', Channel.CHANNEL_SMS)).not.toContain('<Message>');
  });
});
