import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CannedTemplateError, changeRefusal, checkTemplate, customerNameValue, fillTemplate, maySee, placeholdersIn, smsCount } from '../src/canned';
import { cannedForms, checkedAnswer } from '../src/canned-forms';
import { FormError, parseForm } from '../src/forms';

describe('filling a canned answer', () => {
  const values = { 'customer.name': 'Ada Byron', 'conversation.reference': 'AB12CD', wait: 'about 5 minutes', 'agent.name': 'Ana Lopez' };

  it('puts in every value the desk knows, with or without spaces inside the braces', () => {
    const filled = fillTemplate('Hello {{customer.name}}, your reference is {{ conversation.reference }}. Wait: {{wait}}. {{agent.name}}', values);
    expect(filled).toEqual({ text: 'Hello Ada Byron, your reference is AB12CD. Wait: about 5 minutes. Ana Lopez', missing: [] });
  });

  it('leaves a placeholder without a value visibly in place, never an empty gap or "undefined"', () => {
    const filled = fillTemplate('Hello {{customer.name}}, ref {{ conversation.reference }}, {{customer.name}}', { 'agent.name': 'Ana' });
    expect(filled.text).toBe('Hello {{customer.name}}, ref {{conversation.reference}}, {{customer.name}}');
    expect(filled.missing).toEqual(['customer.name', 'conversation.reference']);
    expect(fillTemplate('Hi {{customer.name}}', { 'customer.name': '   ' }).text).toBe('Hi {{customer.name}}');
    expect(fillTemplate('Hi {{customer.name}}', {}).text).not.toMatch(/undefined|null/);
  });

  it('never reads a value as a template: a customer named like a placeholder stays that name', () => {
    expect(fillTemplate('Hi {{customer.name}}, I am {{agent.name}}', { 'customer.name': '{{agent.name}}', 'agent.name': 'Ana' }).text).toBe(
      'Hi {{agent.name}}, I am Ana',
    );
  });

  it('keeps markup in values as the characters they are, and drops control characters', () => {
    expect(fillTemplate('Hi {{customer.name}}', { 'customer.name': '<img src=x onerror=alert(1)>' }).text).toBe('Hi <img src=x onerror=alert(1)>');
    expect(fillTemplate('Hi {{customer.name}}!', { 'customer.name': 'Ada\r\nBcc: x' }).text).toBe('Hi Ada  Bcc: x!');
  });

  it('does not take the desk\'s stand-in "Unknown customer" for a name', () => {
    expect(customerNameValue('Unknown customer')).toBe('');
    expect(customerNameValue('Ada')).toBe('Ada');
  });

  it('fills any template without throwing, and every value it was given ends up in the text', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), fc.string({ minLength: 1, maxLength: 30 }), (text, name) => {
        const filled = fillTemplate(`${text}{{customer.name}}`, { 'customer.name': name });
        const clean = name.replace(/[\u0000-\u001f\u007f]/g, ' ').trim();
        if (clean) expect(filled.text.endsWith(clean)).toBe(true);
        else expect(filled.missing).toContain('customer.name');
      }),
    );
  });
});

describe('checking a template when it is saved', () => {
  it('lists the placeholders it uses, each once', () => {
    expect(placeholdersIn('{{wait}} {{ wait }} {{agent.name}}')).toEqual(['wait', 'agent.name']);
    expect(placeholdersIn('no placeholders')).toEqual([]);
  });

  it('refuses an unknown placeholder, naming it and the known ones', () => {
    expect(() => placeholdersIn('Hi {{customer.email}}')).toThrow(CannedTemplateError);
    expect(() => placeholdersIn('Hi {{customer.email}}')).toThrow(/unknown placeholder \{\{customer\.email\}\}: use \{\{customer\.name\}\}/);
    expect(() => placeholdersIn('Hi {{constructor}}')).toThrow(/unknown placeholder/);
    expect(() => placeholdersIn('Hi {{}}')).toThrow(/unknown placeholder/);
  });

  it('refuses a placeholder that is not closed', () => {
    expect(() => placeholdersIn('Hi {{customer.name')).toThrow(/not closed/);
    expect(() => placeholdersIn('Hi customer.name}}')).toThrow(/not closed/);
  });

  it('holds SMS templates to two segments with every placeholder at its longest', () => {
    // 306 GSM-7 characters make two segments; a name may take 30 of them.
    expect(checkTemplate('a'.repeat(306), ['sms'])).toEqual([]);
    expect(() => checkTemplate('a'.repeat(307), ['sms'])).toThrow(/too long for SMS: 3 segments \(GSM-7\)/);
    expect(() => checkTemplate(`${'a'.repeat(280)}{{customer.name}}`, ['sms'])).toThrow(/too long for SMS/);
    expect(checkTemplate(`${'a'.repeat(270)}{{customer.name}}`, ['sms'])).toEqual(['customer.name']);
    // One character outside GSM-7 makes it UCS-2: 134 code units.
    expect(() => checkTemplate(`ç${'a'.repeat(134)}`, ['sms', 'email'])).toThrow(/UCS-2.*134/);
    // Email has no such limit.
    expect(checkTemplate('a'.repeat(3000), ['email', 'chat'])).toEqual([]);
  });

  it('counts a filled SMS and warns past two segments', () => {
    expect(smsCount('a'.repeat(306), 'sms')).toEqual({ encoding: 'GSM-7', segments: 2, tooLong: false });
    expect(smsCount('a'.repeat(307), 'sms')?.tooLong).toBe(true);
    expect(smsCount('a'.repeat(307), 'email')).toBeNull();
  });
});

describe('who may see and change canned answers', () => {
  const ana = { id: 'ana', role: 'agent' as const };
  const sue = { id: 'sue', role: 'supervisor' as const };
  it('lets everyone use shared answers and only supervisors change them', () => {
    expect(maySee(ana, { scope: 'shared', owner: '' })).toBe(true);
    expect(changeRefusal(ana, { scope: 'shared', owner: '' })).toBe('only supervisors manage shared canned answers');
    expect(changeRefusal(sue, { scope: 'shared', owner: '' })).toBe('');
  });
  it('keeps personal answers to their owner, supervisors included', () => {
    expect(maySee(ana, { scope: 'personal', owner: 'ana' })).toBe(true);
    expect(maySee(sue, { scope: 'personal', owner: 'ana' })).toBe(false);
    expect(changeRefusal(sue, { scope: 'personal', owner: 'ana' })).not.toBe('');
    expect(changeRefusal(ana, { scope: 'personal', owner: 'ana' })).toBe('');
  });
});

describe('the canned answer forms', () => {
  const good = { scope: 'personal', name: 'Greeting', text: 'Hello {{customer.name}}', channels: ['email', 'sms'] };
  const refused = (body: unknown) => {
    try {
      checkedAnswer(parseForm(cannedForms.create, body));
    } catch (err) {
      expect(err).toBeInstanceOf(FormError);
      return (err as Error).message;
    }
    throw new Error('accepted');
  };

  it('takes a good form, trimmed', () => {
    expect(checkedAnswer(parseForm(cannedForms.create, { ...good, name: '  Greeting ' }))).toEqual(good);
  });

  it('answers each problem with its own sentence', () => {
    expect(refused({ ...good, name: '' })).toBe('give the canned answer a name');
    expect(refused({ ...good, name: 'x'.repeat(81) })).toBe('the name is longer than 80 characters');
    expect(refused({ ...good, name: 'two\nlines' })).toBe('the name must be plain text on one line');
    expect(refused({ ...good, text: ' ' })).toBe('text: the canned answer is empty');
    expect(refused({ ...good, text: 'x'.repeat(4001), channels: ['email'] })).toBe('the text is longer than 4,000 characters');
    expect(refused({ ...good, channels: [] })).toBe('channels: choose at least one channel');
    expect(refused({ ...good, channels: ['voice'] })).toBe('channels.0: a channel must be one of email, sms, chat, api, whatsapp');
    expect(refused({ ...good, channels: ['sms', 'sms'] })).toBe('channels: a channel is named twice');
    expect(refused({ ...good, scope: 'everyone' })).toBe('scope must be shared or personal');
    expect(refused({ ...good, text: 'Hi {{customer.phone}}' })).toMatch(/^text: unknown placeholder \{\{customer\.phone\}\}/);
    expect(refused({ ...good, text: 'a'.repeat(400) })).toMatch(/^text: too long for SMS/);
  });

  it('takes only what the page knows when filling, and refuses a malformed reference', () => {
    expect(parseForm(cannedForms.fill, { conversationId: 'conv-1', channel: 'sms' })).toEqual({
      conversationId: 'conv-1',
      channel: 'sms',
      customerName: '',
      reference: '',
    });
    expect(() => parseForm(cannedForms.fill, { conversationId: 'conv-1', channel: 'voice' })).toThrow(/channel must be one of/);
    expect(() => parseForm(cannedForms.fill, { conversationId: 'conv-1', channel: 'sms', reference: '<b>' })).toThrow(/reference must be/);
  });
});
