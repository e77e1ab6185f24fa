// The outbox page: newest first, every piece of request text escaped, conversations linked.
import { describe, expect, it } from 'vitest';
import { escapeHtml, outboxPage, type SentItem } from '../../scripts/outbox/page';

const links = { consoleUrl: 'http://127.0.0.1:8090/', mailUrl: 'http://127.0.0.1:8025' };

function sms(sid: string, at: string, body: string, extra: Partial<SentItem> = {}): SentItem {
  return { kind: 'sms', sid, to: '+15005550006', from: '+15005550001', body, at: new Date(at), ...extra };
}

describe('the outbox page', () => {
  it('escapes every character that could start markup or leave an attribute', () => {
    expect(escapeHtml(`<a href="x" onclick='y'>&amp;</a>`)).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
  });

  it('shows nothing from a request as markup', () => {
    const hostile = '<script>alert(1)</script><img src=x onerror=alert(2)>';
    const html = outboxPage(
      [sms(`SM"><b>`, '2026-01-01T10:00:00Z', hostile, { to: '<i>to</i>', from: `"'from`, conversationId: `conv-"><script>x</script>` })],
      links,
    );
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).not.toContain('<i>');
    expect(html).not.toContain('<b>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;&lt;img src=x onerror=alert(2)&gt;');
    // The conversation id is percent-encoded in the link and escaped in its text.
    expect(html).toContain('href="http://127.0.0.1:8090/#timeline=conv-%22%3E%3Cscript%3Ex%3C%2Fscript%3E"');
    expect(html).toContain('>conv-&quot;&gt;&lt;script&gt;x&lt;/script&gt;</a>');
  });

  it('lists the newest first, the later of two in the same millisecond first', () => {
    const html = outboxPage(
      [
        sms('SM1', '2026-01-01T10:00:00Z', 'first'),
        sms('SM3', '2026-01-01T12:00:00Z', 'third'),
        sms('SM2', '2026-01-01T11:00:00Z', 'second'),
        { kind: 'call', sid: 'CA1', to: '', from: '', body: '<Response><Dial>ana</Dial></Response>', at: new Date('2026-01-01T12:00:00Z') },
      ],
      links,
    );
    const order = ['CA1', 'SM3', 'SM2', 'SM1'].map((sid) => html.indexOf(`<code>${sid}</code>`));
    expect(order.every((at) => at > 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(html).toContain('&lt;Response&gt;&lt;Dial&gt;ana&lt;/Dial&gt;&lt;/Response&gt;');
    expect(html).toContain('<time datetime="2026-01-01T12:00:00.000Z">2026-01-01 12:00:00 UTC</time>');
  });

  it('says so when a request names no conversation, and when nothing was sent', () => {
    expect(outboxPage([sms('SM1', '2026-01-01T10:00:00Z', 'hi')], links)).toContain('not named in the request');
    const empty = outboxPage([], { consoleUrl: 'http://127.0.0.1:8090' });
    expect(empty).toContain('Nothing sent yet.');
    expect(empty).not.toContain('Mailpit');
  });
});
