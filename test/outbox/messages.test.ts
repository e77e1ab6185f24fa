import { describe, expect, it } from 'vitest';
import { readMessage, WhatsAppWindows } from '../../scripts/outbox/messages';

const SID = `HX${'0f'.repeat(16)}`;
const form = (o: Record<string, string>) => new URLSearchParams(o);
const wa = { To: 'whatsapp:+14155550111', From: 'whatsapp:+14155550100' };

describe("the stand-in's Messages resource", () => {
  it('takes a template as Twilio does: ContentSid HX… with ContentVariables, no Body needed', () => {
    expect(readMessage(form({ ...wa, ContentSid: SID, ContentVariables: '{"1":"Kim"}' }))).toEqual({
      to: wa.To,
      from: wa.From,
      body: `template ${SID}`,
      contentSid: SID,
      contentVariables: '{"1":"Kim"}',
    });
  });

  it('refuses a malformed ContentSid (21655), bad or orphan ContentVariables (21656) and unknown parameters (20001)', () => {
    expect(() => readMessage(form({ ...wa, ContentSid: 'HX123' }))).toThrow(expect.objectContaining({ status: 400, code: 21655 }));
    expect(() => readMessage(form({ ...wa, ContentSid: SID, ContentVariables: '{"1":1}' }))).toThrow(expect.objectContaining({ code: 21656 }));
    expect(() => readMessage(form({ ...wa, ContentSid: SID, ContentVariables: 'nope' }))).toThrow(expect.objectContaining({ code: 21656 }));
    expect(() => readMessage(form({ ...wa, Body: 'hi', ContentVariables: '{}' }))).toThrow(expect.objectContaining({ code: 21656 }));
    expect(() => readMessage(form({ ...wa, Body: 'hi', TemplateSid: SID }))).toThrow(
      expect.objectContaining({ code: 20001, message: 'Unknown parameter: TemplateSid' }),
    );
  });

  it('answers 63016 for free-form WhatsApp outside the 24 hours after the customer’s last message, never for a template or SMS', () => {
    const windows = new WhatsAppWindows();
    const now = new Date('2026-12-03T10:00:00Z');
    const freeForm = readMessage(form({ ...wa, Body: 'Hello' }));
    expect(() => windows.check(freeForm, now)).toThrow(expect.objectContaining({ status: 400, code: 63016 }));
    windows.customerWrote(wa.To, wa.From, new Date(now.getTime() - 23 * 3600_000));
    expect(() => windows.check(freeForm, now)).not.toThrow();
    // An older message told later does not move the window back.
    windows.customerWrote(wa.To, wa.From, new Date(now.getTime() - 30 * 3600_000));
    expect(() => windows.check(freeForm, now)).not.toThrow();
    expect(() => windows.check(freeForm, new Date(now.getTime() + 3600_000))).toThrow(expect.objectContaining({ code: 63016 }));
    expect(() => windows.check(readMessage(form({ ...wa, ContentSid: SID })), new Date(now.getTime() + 3600_000))).not.toThrow();
    expect(() => windows.check(readMessage(form({ To: '+14155550111', From: '+14155550100', Body: 'Hi' })), now)).not.toThrow();
  });
});
