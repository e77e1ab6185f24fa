import { describe, expect, it } from 'vitest';
import { IdentityKind, IntermediaryKind, MandateAuthority } from '#libs/proto';
import {
  checkAuthority,
  checkExpiry,
  checkKind,
  intermediaryIdentity,
  intermediaryKey,
  InvalidMandateError,
  judgeOnBehalf,
  mandateAt,
  senderKeys,
  type IntermediaryDoc,
} from '../src/mandates';

const DAY = 86_400_000;
const t0 = new Date('2025-03-01T10:00:00Z');
const email = (value: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' });

function agency(mandates: IntermediaryDoc['mandates']): IntermediaryDoc {
  return { _id: 'im-1', name: 'Sunway Travel', kind: IntermediaryKind.INTERMEDIARY_KIND_AGENCY, identities: [email('@sunway.example')], mandates };
}
const mandate = (over: Partial<IntermediaryDoc['mandates'][number]> = {}) => ({
  customerId: 'cu-1',
  authority: MandateAuthority.MANDATE_AUTHORITY_ACT,
  expiresAt: null,
  grantedBy: 'supervisor-1',
  grantedAt: t0,
  revokedAt: null,
  ...over,
});

describe('intermediary identities', () => {
  it('recognises a sender by its own address first, then by its domain', () => {
    expect(senderKeys(email('desk@sunway.example'))).toEqual(['1|desk@sunway.example', '1|@sunway.example']);
    expect(intermediaryKey(intermediaryIdentity(email('@Sunway.Example'), 'US'))).toBe('1|@sunway.example');
  });

  it('recognises an integration-API application from the sender namespace the API gives its contacts', () => {
    const registered = intermediaryIdentity({ kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'ResLine', namespace: 'api' }, 'US');
    const sender = { kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'api.resline/cust-9', namespace: 'api.resline' };
    expect(senderKeys(sender)).toEqual([intermediaryKey(registered)]);
    // A chat visitor or another namespace is never an intermediary.
    expect(senderKeys({ kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'v1', namespace: '' })).toEqual([]);
    expect(senderKeys({ kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'crm/1', namespace: 'crm' })).toEqual([]);
  });

  it('refuses identities an intermediary cannot be known by', () => {
    expect(() => intermediaryIdentity(email('@not a domain'), 'US')).toThrow(InvalidMandateError);
    expect(() => intermediaryIdentity({ kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'x', namespace: 'crm' }, 'US')).toThrow(/integration-API application/);
    expect(() => intermediaryIdentity({ kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'v', namespace: '' }, 'US')).toThrow(InvalidMandateError);
    expect(() => intermediaryIdentity(email('not-an-address'), 'US')).toThrow(/identity: not an email address/);
  });
});

describe('mandate checks', () => {
  it('accepts only the known kinds and authorities', () => {
    expect(checkAuthority(MandateAuthority.MANDATE_AUTHORITY_INFORM)).toBe(MandateAuthority.MANDATE_AUTHORITY_INFORM);
    expect(() => checkAuthority(MandateAuthority.MANDATE_AUTHORITY_UNSPECIFIED)).toThrow(/authority must be/);
    expect(() => checkAuthority(7 as MandateAuthority)).toThrow(InvalidMandateError);
    expect(() => checkKind(IntermediaryKind.INTERMEDIARY_KIND_UNSPECIFIED)).toThrow(/kind must be/);
  });

  it('refuses an expiry that has already passed, keeps none as "until revoked"', () => {
    expect(checkExpiry(undefined, t0)).toBeNull();
    expect(checkExpiry(new Date(t0.getTime() + DAY), t0)).toEqual(new Date(t0.getTime() + DAY));
    expect(() => checkExpiry(new Date(t0.getTime() - 1), t0)).toThrow(/not in the future/);
    expect(() => checkExpiry(t0, t0)).toThrow(/not in the future/);
  });

  it('finds the mandate in force at the time of the contact, and says why there is none', () => {
    const expiring = agency([mandate({ expiresAt: new Date(t0.getTime() + DAY) })]);
    expect(mandateAt(expiring, 'cu-1', new Date(t0.getTime() + DAY - 1))).toMatchObject({ mandate: { authority: MandateAuthority.MANDATE_AUTHORITY_ACT } });
    expect(mandateAt(expiring, 'cu-1', new Date(t0.getTime() + DAY))).toEqual({ problem: 'the mandate expired' });
    expect(mandateAt(expiring, 'cu-1', new Date(t0.getTime() - 1))).toEqual({ problem: 'the mandate was given after the contact' });
    expect(mandateAt(expiring, 'cu-2', t0)).toEqual({ problem: 'no mandate for the customer named' });
    const revoked = agency([mandate({ revokedAt: new Date(t0.getTime() + 10) })]);
    expect(mandateAt(revoked, 'cu-1', new Date(t0.getTime() + 5))).toHaveProperty('mandate');
    expect(mandateAt(revoked, 'cu-1', new Date(t0.getTime() + 10))).toEqual({ problem: 'the mandate was revoked' });
  });
});

describe('recognising a contact made on behalf', () => {
  const named = email('kim@example.com');

  it('is made for the customer, with the authority, under a mandate in force', () => {
    const judged = judgeOnBehalf(agency([mandate({ authority: MandateAuthority.MANDATE_AUTHORITY_INFORM })]), 'cu-1', named, t0);
    expect(judged.customerId).toBe('cu-1');
    expect(judged.record).toEqual({
      intermediaryId: 'im-1',
      intermediaryName: 'Sunway Travel',
      kind: IntermediaryKind.INTERMEDIARY_KIND_AGENCY,
      authority: MandateAuthority.MANDATE_AUTHORITY_INFORM,
      verified: true,
    });
  });

  it('stays a claim without the customer id when there is no mandate, the customer is unknown or the sender is nobody registered', () => {
    const noMandate = judgeOnBehalf(agency([]), 'cu-1', named, t0);
    const unknownCustomer = judgeOnBehalf(agency([]), null, named, t0);
    expect(noMandate).toEqual(unknownCustomer);
    expect(noMandate).toMatchObject({
      customerId: null,
      record: { verified: false, claimedFor: named, problem: 'no mandate for the customer named', authority: 0 },
    });
    expect(judgeOnBehalf(null, null, named, t0)).toMatchObject({
      customerId: null,
      record: { intermediaryId: '', verified: false, problem: 'the sender is not a registered intermediary' },
    });
    const expired = judgeOnBehalf(agency([mandate({ expiresAt: new Date(t0.getTime() + 1) })]), 'cu-1', named, new Date(t0.getTime() + DAY));
    expect(expired).toMatchObject({ customerId: null, record: { verified: false, problem: 'the mandate expired' } });
  });
});
