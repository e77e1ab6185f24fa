// The officer's look-up without a store: what it searches by, and how a found customer is shown.
import { describe, expect, it } from 'vitest';
import { IdentityKind } from '#libs/proto';
import { lastContactOf, maskIdentity, parseLookup } from '../src/officer-lookup';
import { nameHolds, nameMatch } from '../src/search/folding';
import type { CustomerDoc } from '../src/store/records';

const none = { email: '', phone: '', name: '' };

describe('the officer look-up', () => {
  it('normalises an address and a number as identities are everywhere', () => {
    expect(parseLookup({ ...none, email: ' Noor@Example.COM ' }, 'US')).toEqual({
      by: 'identity',
      identity: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'noor@example.com', namespace: '' },
    });
    expect(parseLookup({ ...none, phone: '020 7946 0018' }, 'GB')).toMatchObject({ identity: { value: '+442079460018' } });
    expect(parseLookup({ ...none, name: '  Noor   HADDAD ' }, 'US')).toEqual({ by: 'name', words: ['noor', 'haddad'] });
    // Any other kind, as an identity: a chat visitor id, an id of kind OTHER within its namespace.
    expect(parseLookup({ ...none, identity: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: ' v-42 ', namespace: '' } }, 'US')).toEqual({
      by: 'identity',
      identity: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'v-42', namespace: '' },
    });
    expect(parseLookup({ ...none, identity: { kind: IdentityKind.IDENTITY_KIND_OTHER, value: '4711', namespace: 'Loyalty' } }, 'US')).toEqual({
      by: 'identity',
      identity: { kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'loyalty/4711', namespace: 'loyalty' },
    });
  });

  it('names what is wrong', () => {
    expect(() => parseLookup({ ...none, email: 'noor@' }, 'US')).toThrow(/^email: not an email address: no\*\*\*/);
    expect(() => parseLookup({ ...none, phone: 'call me' }, 'US')).toThrow(/^phone: not a phone number/);
    expect(() => parseLookup(none, 'US')).toThrow('give exactly one of email, phone, name and identity; got none');
    expect(() => parseLookup({ ...none, name: 'a b c d e f' }, 'US')).toThrow('name has more than 5 words');
    expect(() => parseLookup({ ...none, name: '-- "*' }, 'US')).toThrow('name must hold a letter or a digit');
    expect(() => parseLookup({ ...none, identity: { kind: IdentityKind.IDENTITY_KIND_OTHER, value: '4711', namespace: '' } }, 'US')).toThrow(
      /^identity: an identity of kind OTHER needs a namespace/,
    );
    expect(() =>
      parseLookup({ ...none, email: 'noor@example.com', identity: { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'v-42', namespace: '' } }, 'US'),
    ).toThrow('give exactly one of email, phone, name and identity; got email and identity');
  });

  it('finds a name by the starts of its words, case and accents aside, typed characters taken as text', () => {
    expect(nameHolds('Ann-Marie Müller', ['ann', 'MULL'])).toBe(true);
    expect(nameHolds('Joanna Smith', ['ann'])).toBe(false);
    expect(nameHolds('Noor', ['o.*'])).toBe(false);
    expect(nameHolds("Sean O'Brien", ["o'b"])).toBe(true);
    expect(nameMatch(['Ann-Marie', 'müller'])).toBe('"ann"* AND "marie"* AND "muller"*');
    expect(nameMatch(['"*', '--'])).toBeUndefined();
  });

  it('masks every kind of identity', () => {
    expect(maskIdentity({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'noor@example.com', namespace: '' })).toBe('no***@example.com');
    expect(maskIdentity({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'n@example.com', namespace: '' })).toBe('n***@example.com');
    expect(maskIdentity({ kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+442079460018', namespace: '' })).toBe('+44 •••18');
    expect(maskIdentity({ kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'visitor-123', namespace: '' })).toBe('chat visitor vi***');
    expect(maskIdentity({ kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'crm/42', namespace: 'crm' })).toBe('crm/***');
  });

  it('takes the last contact from the newest activity the customer document carries', () => {
    const at = (iso: string) => new Date(iso);
    const c = {
      conversationStarts: [at('2026-01-01T00:00:00Z')],
      recentConversations: [{ lastActivityAt: at('2026-03-01T00:00:00Z') }, { lastActivityAt: at('2026-02-01T00:00:00Z') }],
    } as unknown as CustomerDoc;
    expect(lastContactOf(c)).toEqual(at('2026-03-01T00:00:00Z'));
    expect(lastContactOf({ conversationStarts: [], recentConversations: [] } as unknown as CustomerDoc)).toBeUndefined();
  });
});
