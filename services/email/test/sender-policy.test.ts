// The pure rules on senders: the verdict from SPF/DKIM/DMARC results, who is acknowledged, who
// counts as the conversation's customer, and the bounds on one mail and on open connections.
import { describe, expect, it } from 'vitest';
import { ConversationSender, SenderVerdict } from '#libs/proto';
import { OpenConnections } from '../src/connection-limits';
import { checkHeaderSection, checkThreadIds, MailLimitError } from '../src/mail-limits';
import { normaliseMail } from '../src/normalise';
import { judgeSender, related, type AuthResultsLike } from '../src/sender-authentication';
import { conversationSenderOf, shouldAcknowledge } from '../src/sender-policy';

type Dkim = AuthResultsLike['dkim']['results'][number];
const results = (r: { spf?: [string, string]; dkim?: Dkim[]; dmarc?: string; policy?: string; from?: string[] }): AuthResultsLike => ({
  spf: r.spf ? { domain: r.spf[1], status: { result: r.spf[0] } } : false,
  dkim: { headerFrom: r.from ?? ['ana@shop.test'], results: r.dkim ?? [] },
  dmarc: r.dmarc ? { policy: r.policy ?? 'reject', status: { result: r.dmarc } } : false,
});

describe('the verdict on a From address', () => {
  it('passes a DMARC pass and, without DMARC, an SPF or DKIM pass for the From domain', () => {
    expect(judgeSender('ana@shop.test', results({ spf: ['pass', 'shop.test'], dmarc: 'pass' }))).toMatchObject({
      verdict: SenderVerdict.SENDER_VERDICT_PASS,
      fromAligned: true,
      dmarcPolicy: 'reject',
    });
    expect(judgeSender('ana@shop.test', results({ spf: ['pass', 'mail.shop.test'], dmarc: 'none' })).verdict).toBe(SenderVerdict.SENDER_VERDICT_PASS);
    const aligned: Dkim = { signingDomain: 'shop.test', status: { result: 'pass', aligned: 'shop.test' } };
    expect(judgeSender('ana@shop.test', results({ spf: ['none', 'shop.test'], dkim: [aligned] }))).toMatchObject({
      verdict: SenderVerdict.SENDER_VERDICT_PASS,
      dkim: 'pass',
      dkimDomain: 'shop.test',
    });
  });

  it("does not pass an SPF or DKIM pass for someone else's domain", () => {
    const other: Dkim = { signingDomain: 'bulk.test', status: { result: 'pass', aligned: false } };
    expect(judgeSender('ana@shop.test', results({ spf: ['pass', 'bulk.test'], dkim: [other] })).verdict).toBe(SenderVerdict.SENDER_VERDICT_NONE);
    expect(judgeSender('ana@shop.test', results({ spf: ['pass', 'bulk.test'], dkim: [other], dmarc: 'fail' }))).toMatchObject({
      verdict: SenderVerdict.SENDER_VERDICT_FAIL,
      fromAligned: false,
    });
  });

  it('fails a DMARC fail, an SPF fail for the From domain without DMARC, and more than one author', () => {
    expect(judgeSender('ana@shop.test', results({ spf: ['fail', 'shop.test'], dmarc: 'fail' })).verdict).toBe(SenderVerdict.SENDER_VERDICT_FAIL);
    expect(judgeSender('ana@shop.test', results({ spf: ['fail', 'shop.test'] })).verdict).toBe(SenderVerdict.SENDER_VERDICT_FAIL);
    expect(judgeSender('ana@shop.test', results({ spf: ['softfail', 'shop.test'] })).verdict).toBe(SenderVerdict.SENDER_VERDICT_NONE);
    expect(judgeSender('ana@shop.test', results({ spf: ['pass', 'shop.test'], from: ['ana@shop.test', 'boss@bank.test'] })).verdict).toBe(
      SenderVerdict.SENDER_VERDICT_FAIL,
    );
  });

  it('takes a DNS failure as temporary, never as a pass, unless an aligned pass needed no failed look-up', () => {
    expect(judgeSender('ana@shop.test', results({ spf: ['temperror', 'shop.test'], dmarc: 'temperror' })).verdict).toBe(SenderVerdict.SENDER_VERDICT_TEMPORARY);
    expect(judgeSender('ana@shop.test', results({ dkim: [{ signingDomain: 'shop.test', status: { result: 'temperror' } }] })).verdict).toBe(
      SenderVerdict.SENDER_VERDICT_TEMPORARY,
    );
    expect(judgeSender('ana@shop.test', results({ spf: ['pass', 'shop.test'], dmarc: 'temperror' })).verdict).toBe(SenderVerdict.SENDER_VERDICT_PASS);
  });

  it('judges the address the contact carries: a header From of another domain is not aligned', () => {
    expect(judgeSender('ana@shop.test', results({ spf: ['pass', 'shop.test'], from: ['ana@elsewhere.test'] })).verdict).toBe(SenderVerdict.SENDER_VERDICT_NONE);
    expect(related('a.shop.test', 'shop.test')).toBe(true);
    expect(related('shop.test', 'myshop.test')).toBe(false);
  });
});

describe('acknowledgements and the conversation sender', () => {
  it('acknowledges an authenticated sender; "not-failed" also one that publishes nothing; never a failed or unknown one', () => {
    for (const policy of ['authenticated', 'not-failed'] as const) {
      expect(shouldAcknowledge(SenderVerdict.SENDER_VERDICT_PASS, policy)).toBe(true);
      expect(shouldAcknowledge(SenderVerdict.SENDER_VERDICT_FAIL, policy)).toBe(false);
      expect(shouldAcknowledge(SenderVerdict.SENDER_VERDICT_TEMPORARY, policy)).toBe(false);
    }
    expect(shouldAcknowledge(SenderVerdict.SENDER_VERDICT_NONE, 'authenticated')).toBe(false);
    expect(shouldAcknowledge(SenderVerdict.SENDER_VERDICT_NONE, 'not-failed')).toBe(true);
  });

  it('tells the customer (verified or not) from another sender on an existing conversation', () => {
    const base = { joinsExisting: true, customerAddresses: ['ana@shop.test'], senderAddress: 'ANA@shop.test', verdict: SenderVerdict.SENDER_VERDICT_PASS };
    expect(conversationSenderOf(base)).toBe(ConversationSender.CONVERSATION_SENDER_CUSTOMER);
    expect(conversationSenderOf({ ...base, verdict: SenderVerdict.SENDER_VERDICT_FAIL })).toBe(ConversationSender.CONVERSATION_SENDER_CUSTOMER_UNVERIFIED);
    expect(conversationSenderOf({ ...base, senderAddress: 'eve@shop.test' })).toBe(ConversationSender.CONVERSATION_SENDER_OTHER);
    expect(conversationSenderOf({ ...base, customerAddresses: [] })).toBe(ConversationSender.CONVERSATION_SENDER_OTHER);
    expect(conversationSenderOf({ ...base, joinsExisting: false })).toBe(ConversationSender.CONVERSATION_SENDER_UNSPECIFIED);
  });
});

describe('bounds', () => {
  it('refuses a header section over the limit, and counts up to the blank line', () => {
    expect(() => checkHeaderSection(Buffer.from(`Subject: ${'x'.repeat(100)}\r\n\r\nbody`), 50)).toThrow(MailLimitError);
    expect(() => checkHeaderSection(Buffer.from(`Subject: hi\r\n\r\n${'x'.repeat(1000)}`), 50)).not.toThrow();
  });

  it('refuses more References than the limit and an id too long for any mail system', () => {
    expect(() =>
      checkThreadIds(
        Array.from({ length: 6 }, (_, i) => `<${i}@x>`),
        5,
      ),
    ).toThrow(/name 6 messages; the limit is 5/);
    expect(() => checkThreadIds([`<${'a'.repeat(300)}@x>`], 5)).toThrow(/characters long; the limit is 250/);
    const mail = {
      from: { value: [{ address: 'a@b.test' }] },
      headers: new Map(),
      attachments: [],
      references: Array.from({ length: 101 }, (_, i) => `<${i}@x>`),
    };
    expect(() => normaliseMail(mail, 'a@b.test')).toThrow(MailLimitError);
    expect(normaliseMail({ ...mail, references: mail.references.slice(0, 100) }, 'a@b.test').threadIds).toHaveLength(100);
  });

  it('holds at most the limit of connections per address, and frees a slot when one closes', () => {
    const open = new OpenConnections(2);
    expect(open.admit('s1', '10.0.0.1')).toBe(true);
    expect(open.admit('s2', '10.0.0.1')).toBe(true);
    expect(open.admit('s3', '10.0.0.1')).toBe(false);
    expect(open.admit('s4', '10.0.0.2')).toBe(true);
    open.release('s3'); // never counted: changes nothing
    expect(open.openFrom('10.0.0.1')).toBe(2);
    open.release('s1');
    open.release('s1');
    expect(open.openFrom('10.0.0.1')).toBe(1);
    expect(open.admit('s5', '10.0.0.1')).toBe(true);
  });
});
