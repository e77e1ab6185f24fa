// What an erasure names on cc.erasure.v1 and what a replay drops because of it, and what a
// retention sweep at a moment deletes: pure, no servers.
import { describe, expect, it } from 'vitest';
import { ContactReceived, ConversationEvent, IdentityKind } from '#libs/proto';
import { subjectKey } from '#libs/erasure';
import { ErasedSubjects, erasureSubjects } from '../src/erasure';
import { retentionCutoffs, sweepSlot } from '../src/retention';
import { heldIdentities, type CustomerHoldings } from '../src/store/erasure';

const SECRET = 'unit-erasure-key-0123456789abcdefghijkl';
const erasedAt = new Date('2026-11-20T12:00:00Z');
const before = new Date('2026-11-20T11:00:00Z');
const after = new Date('2026-11-20T13:00:00Z');
const ana = { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ana@example.com', namespace: '' };

function contact(over: Partial<ContactReceived>): ContactReceived {
  return ContactReceived.fromPartial({ contactId: 'c1', conversationId: 'conv-other', receivedAt: before, sender: ana, ...over } as never);
}

function event(over: Partial<ConversationEvent>): ConversationEvent {
  return ConversationEvent.fromPartial({ eventId: 'e1', conversationId: 'conv-other', occurredAt: before, ...over } as never);
}

function erasedAna(): ErasedSubjects {
  const erased = new ErasedSubjects(SECRET, 'US');
  for (const key of erasureSubjects(SECRET, { customerIds: ['cust-ana'], identities: [ana], conversationIds: ['conv-ana'] })) erased.add(key, erasedAt);
  return erased;
}

describe('erasure subjects', () => {
  it('names customer, identities and conversations by keyed hashes, never in clear', () => {
    const keys = erasureSubjects(SECRET, { customerIds: ['cust-ana'], identities: [ana, ana], conversationIds: ['conv-ana'] });
    expect(keys).toHaveLength(3);
    for (const k of keys) {
      expect(k).toMatch(/^[0-9a-f]{64}$/);
      expect(k).not.toContain('ana');
    }
    // Another key gives other hashes: the topic cannot be matched against a list of addresses without the secret.
    expect(subjectKey('another-key-0123456789abcdefghijklmn', 'customer', 'cust-ana')).not.toBe(subjectKey(SECRET, 'customer', 'cust-ana'));
    // The kind is part of the hash: a conversation id equal to a customer id is another subject.
    expect(subjectKey(SECRET, 'conversation', 'x')).not.toBe(subjectKey(SECRET, 'customer', 'x'));
  });
});

describe('what an erasure names', () => {
  it("names the identities the customer held, not what they only claimed (it may be someone else's)", () => {
    const bea = { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'bea@example.com', namespace: '' };
    const phone = { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+14155550123', namespace: '' };
    const held = {
      customer: { _id: 'cust-ana', identities: [ana], claims: [bea] },
      mergedCustomers: [{ _id: 'cust-old', identities: [phone], claims: [] }],
      identities: [{ _id: `${ana.kind}|${ana.value}`, ...ana, customerId: 'cust-ana', linkedAt: erasedAt }],
    } as unknown as CustomerHoldings;
    const values = heldIdentities(held).map((i) => i.value);
    expect(values).toContain(ana.value);
    expect(values).toContain(phone.value);
    expect(values).not.toContain(bea.value);
  });
});

describe('what a replay drops', () => {
  it('drops contacts from an erased identity or in an erased conversation made before the erasure', () => {
    const erased = erasedAna();
    expect(erased.dropsContact(contact({}))).toBe(true);
    // The same address written differently is the same identity.
    expect(erased.dropsContact(contact({ sender: { ...ana, value: ' Ana@Example.COM ' } }))).toBe(true);
    expect(erased.dropsContact(contact({ conversationId: 'conv-ana', sender: { ...ana, value: 'someone@example.com' } }))).toBe(true);
    expect(erased.dropsContact(contact({ sender: { ...ana, value: 'someone@example.com' } }))).toBe(false);
    expect(erased.dropsContact(contact({ sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'not an address', namespace: '' } }))).toBe(false);
  });

  it('keeps what the customer sends after the erasure: they start again as a new customer', () => {
    const erased = erasedAna();
    expect(erased.dropsContact(contact({ receivedAt: after }))).toBe(false);
    expect(erased.dropsEvent(event({ conversationId: 'conv-ana', occurredAt: after }))).toBe(false);
  });

  it('drops events of an erased conversation or customer', () => {
    const erased = erasedAna();
    expect(erased.dropsEvent(event({ conversationId: 'conv-ana' }))).toBe(true);
    expect(erased.dropsEvent(event({ customerId: 'cust-ana' }))).toBe(true);
    expect(erased.dropsEvent(event({ customerId: 'cust-bea' }))).toBe(false);
    expect(erased.dropsEvent(event({}))).toBe(false);
  });

  it('keeps the latest erasure of a subject', () => {
    const erased = erasedAna();
    const key = subjectKey(SECRET, 'conversation', 'conv-ana');
    erased.add(key, before);
    expect(erased.dropsEvent(event({ conversationId: 'conv-ana', occurredAt: new Date('2026-11-20T11:30:00Z') }))).toBe(true);
    erased.add(key, after);
    expect(erased.dropsEvent(event({ conversationId: 'conv-ana', occurredAt: new Date('2026-11-20T12:30:00Z') }))).toBe(true);
  });
});

describe('retention', () => {
  const now = new Date('2026-12-01T00:00:00Z');

  it('cuts each kind of data at its own window', () => {
    const cut = retentionCutoffs(now, { messageTextDays: 30, conversationDays: 90, auditDays: 365 });
    expect(cut.textsBefore.toISOString()).toBe('2026-11-01T00:00:00.000Z');
    expect(cut.conversationsBefore.toISOString()).toBe('2026-09-02T00:00:00.000Z');
    expect(cut.auditBefore.toISOString()).toBe('2025-12-01T00:00:00.000Z');
  });

  it('never keeps a conversation for less time than its texts', () => {
    const cut = retentionCutoffs(now, { messageTextDays: 90, conversationDays: 30, auditDays: 1 });
    expect(cut.conversationsBefore).toEqual(cut.textsBefore);
  });

  it('gives every instance the same slot within one interval, and a new one after it', () => {
    const hour = 3_600_000;
    expect(sweepSlot(new Date(now.getTime() + 10), hour)).toBe(sweepSlot(new Date(now.getTime() + hour - 1), hour));
    expect(sweepSlot(new Date(now.getTime() + hour), hour)).not.toBe(sweepSlot(now, hour));
  });
});
