import { describe, expect, it } from 'vitest';
import { deliveryView, DeliveryBook, followedConversation, noticeDeliveries } from '../src/deliveries';
import { fillTemplate, parseTemplates, templateChoices } from '../src/whatsapp-templates';

const SID = `HX${'ab'.repeat(16)}`;
const list = parseTemplates(
  JSON.stringify([
    {
      name: 'order_shipped',
      contentSid: SID,
      language: 'en',
      preview: 'Hello {{1}}, order {{2}} has shipped. {{1}}, reply to ask anything.',
      variables: [{ label: 'first name', maxLength: 10 }, { label: 'order number' }],
    },
  ]),
);

describe('the approved WhatsApp templates', () => {
  it('fills the preview and Twilio’s ContentVariables from the values in order', () => {
    const filled = fillTemplate(list, 'order_shipped', ['Kim', ' A-1001 ']);
    expect(filled.text).toBe('Hello Kim, order A-1001 has shipped. Kim, reply to ask anything.');
    expect(JSON.parse(filled.contentVariables)).toEqual({ 1: 'Kim', 2: 'A-1001' });
    expect(filled.template.contentSid).toBe(SID);
  });

  it('refuses a missing, too long, unsendable or extra variable, and an unknown template, naming what is wrong', () => {
    expect(() => fillTemplate(list, 'order_shipped', ['Kim'])).toThrow('variables: variable 2 (order number) is missing');
    expect(() => fillTemplate(list, 'order_shipped', ['Kim', '   '])).toThrow('variable 2 (order number) is missing');
    expect(() => fillTemplate(list, 'order_shipped', ['Kimberly-Anne', 'A-1'])).toThrow('variable 1 (first name) is longer than 10 characters');
    expect(() => fillTemplate(list, 'order_shipped', ['Kim', 'A\n1'])).toThrow('may not hold a new line');
    expect(() => fillTemplate(list, 'order_shipped', ['Kim', 'A      1'])).toThrow('more than four spaces');
    expect(() => fillTemplate(list, 'order_shipped', ['Kim', 'A-1', 'more'])).toThrow('order_shipped has 2 variable(s), 3 were given');
    expect(() => fillTemplate(list, 'welcome', [])).toThrow('template: welcome is not one of the approved WhatsApp templates');
  });

  it('refuses a configured list whose SID, placeholders or names are wrong', () => {
    const one = (t: object) => JSON.stringify([{ name: 'x', contentSid: SID, language: 'en', preview: 'Hi {{1}}', variables: [{ label: 'name' }], ...t }]);
    expect(() => parseTemplates('[')).toThrow('is not JSON');
    expect(() => parseTemplates(one({ contentSid: 'HX12' }))).toThrow('contentSid must be a Twilio Content SID');
    expect(() => parseTemplates(one({ preview: 'Hi {{2}}' }))).toThrow('the preview must use {{1}} to {{1}}');
    expect(() => parseTemplates(one({ preview: 'Hi', variables: [] }))).not.toThrow();
    expect(() => parseTemplates(`[${one({}).slice(1, -1)},${one({}).slice(1, -1)}]`)).toThrow('the template x is listed twice');
  });

  it('lists the templates for the page without their Content SID', () => {
    expect(JSON.stringify(templateChoices(list))).not.toContain(SID);
    expect(templateChoices(list)[0]).toMatchObject({
      name: 'order_shipped',
      variables: [
        { label: 'first name', maxLength: 10 },
        { label: 'order number', maxLength: 100 },
      ],
    });
  });
});

describe('what became of a message written first', () => {
  const note = (o: object) => ({ outboundMessageId: 'm1', delivered: false, code: '', detail: '', permanent: true, ...o });

  it('is queued until a report comes, then sent, opted out, outside the window or failed', () => {
    expect(deliveryView([]).state).toBe('queued');
    expect(deliveryView([note({ delivered: true })]).state).toBe('sent');
    const stop = deliveryView([note({ code: 'OPTED_OUT', detail: 'the customer replied STOP; no SMS may be sent until START' })]);
    expect(stop).toEqual({
      state: 'opted-out',
      words: 'Not sent: the customer opted out (replied STOP). Nothing goes to them until they reply START.',
    });
    expect(deliveryView([note({ code: '63016', detail: 'WhatsApp refused' })])).toEqual({ state: 'window-closed', words: 'Not sent: WhatsApp refused' });
    expect(deliveryView([note({ code: '21211', detail: 'invalid number' })]).words).toBe('Not sent: invalid number (21211)');
    expect(deliveryView([note({ code: '429', permanent: false, detail: 'busy' })]).state).toBe('retrying');
  });

  it('lets a later failure (the carrier’s) outweigh an earlier "sent", never the other way round', () => {
    expect(deliveryView([note({ delivered: true }), note({ outboundMessageId: 'SM1', code: '30006', detail: 'undelivered' })]).state).toBe('failed');
    expect(deliveryView([note({ code: 'OPTED_OUT' }), note({ outboundMessageId: 'SM1', delivered: true })]).state).toBe('opted-out');
  });

  it('keeps reports only of the conversations the desk names, once each, and counts a notice customer by customer', () => {
    expect(followedConversation('conv-desk-abc')).toBe(true);
    expect(followedConversation('conv-notice-abc')).toBe(true);
    expect(followedConversation('conv-sms-abc')).toBe(false);
    const book = new DeliveryBook(2);
    book.record('conv-notice-a', note({ delivered: true }));
    book.record('conv-notice-a', note({ delivered: true }));
    book.record('conv-notice-b', note({ code: 'OPTED_OUT' }));
    expect(book.of('conv-notice-a')).toHaveLength(1);
    const started = ['a', 'b', 'c'].map((x) => ({ customerId: `cust-${x}`, conversationId: `conv-notice-${x}` }));
    expect(noticeDeliveries(book, started)).toMatchObject({
      sent: 1,
      optedOut: 1,
      notSent: 0,
      queued: 1,
      problems: [{ customerId: 'cust-b', state: 'opted-out' }],
    });
    book.record('conv-notice-c', note({ delivered: true }));
    expect(book.of('conv-notice-a')).toEqual([]);
  });
});
