// The customer.erased events, with no I/O: which erased ids a delivery's payload names (only
// those erased at or after it was recorded), and an event id that every instance and every
// restart computes the same, apart per application.
import { expect, it } from 'vitest';
import { ErasureSet, subjectKey } from '#libs/erasure';
import { erasedEventOf, erasedIdsOf } from '../src/webhooks/erasure-events';

const KEY = 'erasure-events-test-key-0123456789abcdef';
const erasedAt = new Date('2026-12-01T10:00:00Z');
const erased = ErasureSet.of(KEY, [
  { subjectKey: subjectKey(KEY, 'customer', 'cust-1'), erasedAt },
  { subjectKey: subjectKey(KEY, 'conversation', 'conv-1'), erasedAt },
]);
const before = erasedAt.getTime() - 1000;

it('finds the erased customer and conversation ids a payload names, recorded before the erasure', () => {
  const payload = JSON.stringify({ data: { conversationId: 'conv-1', customerId: 'cust-2', targetCustomerId: 'cust-1', text: 'cust-1' } });
  expect(erasedIdsOf(erased, payload, before)).toEqual([
    { kind: 'conversation', id: 'conv-1', erasedAt: erasedAt.getTime() },
    { kind: 'customer', id: 'cust-1', erasedAt: erasedAt.getTime() },
  ]);
  // Recorded after the erasure (a customer.erased delivery itself, a new contact): not the erased copy.
  expect(erasedIdsOf(erased, payload, erasedAt.getTime() + 1)).toEqual([]);
  expect(erasedIdsOf(erased, 'not json', before)).toEqual([]);
});

it('names one event per application and erased id, the same on every instance', () => {
  const copy = { application: 'crm', kind: 'customer' as const, id: 'cust-1', erasedAt: erasedAt.getTime() };
  const event = erasedEventOf(copy);
  expect(event).toMatchObject({ type: 'customer.erased', application: 'crm', occurredAt: erasedAt, data: { customerId: 'cust-1', conversationId: null } });
  expect(erasedEventOf({ ...copy }).id).toBe(event.id);
  expect(erasedEventOf({ ...copy, application: 'shop' }).id).not.toBe(event.id);
  expect(event.id).not.toContain('cust-1');
  expect(erasedEventOf({ ...copy, kind: 'conversation', id: 'conv-1' }).data).toEqual({ customerId: null, conversationId: 'conv-1' });
});
