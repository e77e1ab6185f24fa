import { describe, expect, it } from 'vitest';
import { Channel } from '#libs/proto';
import { approvedTemplate, bareNumber, isWhatsAppAddress, messagingAddress, REPLY_WINDOW_MS, replyWindow, windowClosedDetail } from '../src/whatsapp';
import { carrierReported, keywordReply } from '../src/texts';
import { classifyTwilioFailure } from '../src/twilio-client';

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

describe('a template on the company’s first WhatsApp message', () => {
  const contentSid = `HX${'c3'.repeat(16)}`;

  it('is read from the message’s metadata, or is none for free text', () => {
    expect(approvedTemplate({ 'whatsapp-content-sid': contentSid, 'whatsapp-content-variables': '{"1":"Kim"}' })).toEqual({
      contentSid,
      contentVariables: '{"1":"Kim"}',
    });
    expect(approvedTemplate({ 'whatsapp-content-sid': contentSid })).toEqual({ contentSid, contentVariables: '{}' });
    expect(approvedTemplate({ 'initiated-by': 'desk' })).toBeUndefined();
  });

  it('is an invalid event when its Content SID or variables are malformed', () => {
    expect(() => approvedTemplate({ 'whatsapp-content-sid': 'HX1' })).toThrow('is not a Content SID');
    expect(() => approvedTemplate({ 'whatsapp-content-sid': contentSid, 'whatsapp-content-variables': '[' })).toThrow('is not JSON');
    expect(() => approvedTemplate({ 'whatsapp-content-sid': contentSid, 'whatsapp-content-variables': '{"1":2}' })).toThrow('an object of texts');
  });

  it('turns Twilio’s 63016 into words the writer understands, on the REST answer and on a status callback', () => {
    const refused = classifyTwilioFailure(Object.assign(new Error('Failed to send freeform message'), { status: 400, code: 63016 }));
    expect(refused).toMatchObject({ kind: 'refused-permanently', code: '63016' });
    expect(refused.detail).toMatch(/^WhatsApp refused a free-form message outside the 24 hours .* \(Twilio: Failed to send freeform message\)$/);
    const later = carrierReported(`SM${'0'.repeat(32)}`, 'conv-1', 'undelivered', '63016', new Date());
    expect(later.step?.$case === 'deliveryReported' && later.step.deliveryReported.detail).toMatch(/^undelivered: WhatsApp refused a free-form message/);
  });
});
