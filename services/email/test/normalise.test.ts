import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { waitInWords as durationInWords } from '#libs/contact';
import { htmlToText, normaliseMail, splitQuoted, UnusableMailError, type ParsedMailLike } from '../src/normalise';
import { replySubject } from '../src/threading';

const mail = (over: Partial<ParsedMailLike> = {}): ParsedMailLike => ({
  from: { value: [{ address: 'Ana.Lima@Example.COM', name: 'Ana Lima' }] },
  subject: 'Invoice 42',
  text: 'Hello',
  headers: new Map(),
  attachments: [],
  ...over,
});

describe('normaliseMail', () => {
  it('lower-cases the sender, keeps the display name and finds the reference', () => {
    const m = normaliseMail(
      mail({ subject: 'Re: Invoice 42 [#AB23CD]', messageId: '<m2@x>', inReplyTo: '<m1@x>', references: ['<m0@x>', '<m1@x>'] }),
      'ana.lima@example.com',
    );
    expect(m).toMatchObject({ senderAddress: 'ana.lima@example.com', senderName: 'Ana Lima', reference: 'AB23CD', messageId: '<m2@x>' });
    expect(m.threadIds).toEqual(['<m1@x>', '<m0@x>']);
    expect(m.automatedReason).toBeUndefined();
  });

  it('separates the quoted thread from the new text', () => {
    expect(splitQuoted('Thanks, that worked.\n\nOn Mon, 2 Nov 2026, Support wrote:\n> Try again\n')).toEqual({
      text: 'Thanks, that worked.',
      quoted: 'On Mon, 2 Nov 2026, Support wrote:\n> Try again',
    });
    expect(splitQuoted('New text\n> old line\n> older line')).toEqual({ text: 'New text', quoted: '> old line\n> older line' });
    expect(splitQuoted('a > b is true\nstill mine')).toEqual({ text: 'a > b is true\nstill mine', quoted: '' });
  });

  it('turns HTML into text, dropping scripts and markup', () => {
    const m = normaliseMail(mail({ text: undefined, html: '<p>Hello <b>there</b></p><script>alert(1)</script><img src=x onerror=alert(2)>&lt;b&gt;' }), false);
    expect(m.text).not.toMatch(/<[a-z/!]/i);
    expect(m.text).toContain('Hello there');
    expect(m.text).not.toContain('alert');
  });

  it('recognises auto-replies, list mail and bounces', () => {
    const h = (entries: [string, unknown][]) => new Map(entries);
    expect(normaliseMail(mail({ headers: h([['auto-submitted', 'auto-replied']]) }), 'a@b.c').automatedReason).toBe('Auto-Submitted: auto-replied');
    expect(normaliseMail(mail({ headers: h([['auto-submitted', 'no']]) }), 'a@b.c').automatedReason).toBeUndefined();
    expect(normaliseMail(mail({ headers: h([['precedence', 'bulk']]) }), 'a@b.c').automatedReason).toBe('Precedence: bulk');
    expect(normaliseMail(mail({ headers: h([['list-id', '<news.example.com>']]) }), 'a@b.c').automatedReason).toBe('mailing-list headers');
    expect(normaliseMail(mail({ from: { value: [{ address: 'MAILER-DAEMON@mx.example.com' }] } }), 'x@y.z').automatedReason).toBe('sender mailer-daemon');
    expect(normaliseMail(mail(), false).automatedReason).toBe('empty envelope sender (bounce)');
    expect(normaliseMail(mail({ headers: h([['content-type', { value: 'multipart/report', params: {} }]]) }), 'a@b.c').automatedReason).toBe(
      'delivery status notification',
    );
  });

  it('refuses a mail without a usable sender', () => {
    expect(() => normaliseMail(mail({ from: { value: [{ address: 'not an address' }] } }), false)).toThrow(UnusableMailError);
  });

  it('never throws anything but UnusableMailError and never lets HTML markup through, whatever the headers and body', () => {
    const hostile = fc.oneof(
      fc.string(),
      fc.constantFrom(
        '<script>alert(1)</script>',
        '<img src=x onerror=alert(1)>',
        '\u0000\r\n\t',
        '&lt;script&gt;',
        '<<b>>',
        '<!-- x -->',
        '<a href="javascript:x">',
      ),
    );
    fc.assert(
      fc.property(
        hostile,
        hostile,
        fc.option(hostile),
        fc.option(hostile),
        fc.array(fc.tuple(fc.constantFrom('auto-submitted', 'precedence', 'list-id', 'content-type'), hostile), { maxLength: 3 }),
        (subject, html, address, messageId, headers) => {
          try {
            const m = normaliseMail(
              mail({
                subject,
                text: undefined,
                html,
                messageId: messageId ?? undefined,
                from: { value: [{ address: address ?? 'a@b.c' }] },
                headers: new Map(headers),
              }),
              'a@b.c',
            );
            expect(m.text).not.toMatch(/<[a-z/!?]/i);
            expect(m.subject).not.toMatch(/[\r\n\u0000]/);
            expect(m.senderAddress).toMatch(/^[^\s<>]+@[^\s<>]+$/);
          } catch (err) {
            expect(err).toBeInstanceOf(UnusableMailError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it('htmlToText never emits markup for any input', () => {
    fc.assert(
      fc.property(
        fc.string({ unit: fc.constantFrom('<', '>', '/', 'a', 's', 'c', 'r', 'i', 'p', 't', '!', '-', '&', ';', '#', 'x', '6', '0', ' ', '=', '"') }),
        (html) => {
          expect(htmlToText(html)).not.toMatch(/<[a-z/!?]/i);
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe('replies and acknowledgements', () => {
  it('builds a reply subject with Re: once and the reference once', () => {
    expect(replySubject('Invoice 42', 'AB23CD')).toBe('Re: Invoice 42 [#AB23CD]');
    expect(replySubject('RE: Invoice 42 [#AB23CD]', 'AB23CD')).toBe('RE: Invoice 42 [#AB23CD]');
    expect(replySubject('', 'AB23CD')).toBe('Re: Your message [#AB23CD]');
  });

  it('says durations in words', () => {
    expect(durationInWords(4 * 3600_000)).toBe('4 hours');
    expect(durationInWords(60_000)).toBe('1 minute');
    expect(durationInWords(90 * 60_000)).toBe('90 minutes');
    expect(durationInWords(3 * 86_400_000)).toBe('3 days');
  });
});
