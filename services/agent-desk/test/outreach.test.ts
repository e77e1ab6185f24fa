// Writing first to customers, without servers: the forms, the ids that make a retry the same
// conversation, and a notice's progress and pace.
import { describe, expect, it } from 'vitest';
import { FormError, parseForm } from '../src/forms';
import { deskConversationId, newProgress, noticeConversationId, recordOutcome, sendAt } from '../src/outreach';
import { outreachForms } from '../src/outreach-forms';

const start = { fromConversationId: 'conv-1', channel: 'sms', to: '+14155550100', text: 'Your repair is done.', requestId: 'req-12345678' };

describe('the forms of writing first', () => {
  it('take a message to an email address or an E.164 number', () => {
    expect(parseForm(outreachForms.start, start)).toMatchObject({ channel: 'sms', skill: '', subject: '' });
    expect(parseForm(outreachForms.start, { ...start, channel: 'email', to: 'kim@example.org', subject: 'Repair' }).subject).toBe('Repair');
  });

  it('take a WhatsApp message as an approved template with its variables, or as free text', () => {
    const template = { ...start, channel: 'whatsapp', text: '', template: 'order_shipped', variables: ['Kim', 'A-1001'] };
    expect(parseForm(outreachForms.start, template)).toMatchObject({ channel: 'whatsapp', template: 'order_shipped', variables: ['Kim', 'A-1001'] });
    expect(parseForm(outreachForms.start, { ...start, channel: 'whatsapp' })).toMatchObject({ template: '', variables: [] });
  });

  it('refuse each problem with its own sentence', () => {
    const refusal = (body: object, form: 'start' | 'notice' = 'start') => {
      try {
        parseForm(outreachForms[form], body);
      } catch (err) {
        expect(err).toBeInstanceOf(FormError);
        return (err as Error).message;
      }
      return 'accepted';
    };
    expect(refusal({ ...start, to: '0044 20' })).toBe('to: a number in E.164 form such as +14155550100');
    expect(refusal({ ...start, channel: 'email' })).toBe('to: an email address such as kim@example.org');
    expect(refusal({ ...start, subject: 'Hi' })).toBe('subject: an SMS has none');
    expect(refusal({ ...start, text: 'x'.repeat(1601) })).toBe('text: an SMS is at most 1,600 characters');
    expect(refusal({ ...start, channel: 'chat' })).toBe('channel must be email, sms or whatsapp');
    expect(refusal({ ...start, text: '' })).toBe('text: the message is empty');
    expect(refusal({ ...start, template: 'order_shipped' })).toBe('template: only a WhatsApp message is sent as a template');
    expect(refusal({ ...start, channel: 'whatsapp', template: 'order_shipped' })).toBe('text: a template brings its own text; fill its variables instead');
    expect(refusal({ ...start, channel: 'whatsapp', subject: 'Hi' })).toBe('subject: a WhatsApp message has none');
    expect(refusal({ ...start, channel: 'whatsapp', to: 'whatsapp:+14155550100' })).toBe('to: a number in E.164 form such as +14155550100');
    expect(refusal({ ...start, requestId: 'short' })).toBe('requestId must be 8-64 letters, digits or -');
    expect(refusal({ noticeId: 'outage 1', channel: 'sms', customerIds: ['c1'], text: 'Down' }, 'notice')).toBe('noticeId must be 1-40 letters, digits or -');
    expect(refusal({ noticeId: 'outage-1', channel: 'sms', customerIds: [], text: 'Down' }, 'notice')).toBe('customerIds: name at least one customer');
  });
});

describe('the ids of conversations written first', () => {
  it('are the same for the same send, and apart for another person, request or customer', () => {
    expect(deskConversationId('ana', 'r1')).toBe(deskConversationId('ana', 'r1'));
    expect(deskConversationId('ana', 'r1')).not.toBe(deskConversationId('ben', 'r1'));
    expect(noticeConversationId('outage', 'c1')).not.toBe(noticeConversationId('outage', 'c2'));
    // Routing's form of a conversation id a caller chooses.
    expect(noticeConversationId('outage', 'c1')).toMatch(/^conv-[A-Za-z0-9-]{1,80}$/);
  });
});

describe("a notice's progress", () => {
  it('counts each outcome, keeps why, and finishes with the last customer', () => {
    const p = newProgress('outage', 'sue', 'sms', 3);
    recordOutcome(p, 'c1', 'started');
    recordOutcome(p, 'c2', 'skipped', 'no verified phone number');
    expect(p.finished).toBe(false);
    recordOutcome(p, 'c3', 'already-sent');
    expect(p).toMatchObject({ done: 3, finished: true, counts: { started: 1, skipped: 1, 'already-sent': 1, failed: 0 } });
    expect(p.problems).toEqual([{ customerId: 'c2', outcome: 'skipped', why: 'no verified phone number' }]);
  });

  it('is paced to the rate from its start', () => {
    expect([0, 1, 2, 5].map((i) => sendAt(1000, i, 5))).toEqual([1000, 1200, 1400, 2000]);
  });
});
