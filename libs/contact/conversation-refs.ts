// How a conversation is named: the id services key it by, and the short reference a customer
// reads back on the phone or keeps in a mail's subject.
import { randomBytes, randomUUID } from 'node:crypto';

/** No 0/O or 1/I: a reference is read out loud and typed back. */
export const REFERENCE_ALPHABET = 'ABCDEFGHJKLMNPQRSTUVWXYZ23456789';
const REFERENCE_LENGTH = 6;

/** Six characters from REFERENCE_ALPHABET, at random. */
export function newConversationReference(): string {
  return [...randomBytes(REFERENCE_LENGTH)].map((b) => REFERENCE_ALPHABET[b % REFERENCE_ALPHABET.length]).join('');
}

/** The id of a conversation a channel opens: `conv-` and a random UUID. */
export function newConversationId(): string {
  return `conv-${randomUUID()}`;
}
