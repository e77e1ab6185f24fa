import { describe, expect, it } from 'vitest';
import { newConversationId, newConversationReference, REFERENCE_ALPHABET } from './conversation-refs';

describe('conversation references', () => {
  it('are six characters without look-alikes', () => {
    for (let i = 0; i < 200; i++) expect(newConversationReference()).toMatch(/^[A-HJ-NP-Z2-9]{6}$/);
    expect(REFERENCE_ALPHABET).not.toMatch(/[01IO]/);
    expect(new Set(REFERENCE_ALPHABET).size).toBe(32);
  });

  it('differ from one conversation to the next', () => {
    expect(new Set(Array.from({ length: 200 }, newConversationReference)).size).toBeGreaterThan(195);
  });
});

describe('conversation ids', () => {
  it('are conv- and a UUID, new each time', () => {
    const id = newConversationId();
    expect(id).toMatch(/^conv-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(newConversationId()).not.toBe(id);
  });
});
