// Event ids (ce_id, event_id, and the message and contact ids published as ce_id), built from
// what identifies the input, so the same input published again has the same id and is skipped
// downstream. Each producer has always joined the parts of its ids in its own way; the producer
// decides the separator here rather than one separator for all, because ids already written
// stay in customer-record's history (`event:<id>`, `contact:<id>`) and access lists, in routing's
// and chat's stores and inside other ids: an input published again after an upgrade (a webhook or
// mail retried, a chat message resent) must get the id it got before, or it is kept twice.
import { createHash } from 'node:crypto';

const SEPARATORS = { chat: ':', email: '-', 'sms-voice': '-', routing: '/' } as const;
export type EventIdProducer = keyof typeof SEPARATORS;

/** `chat:visitor:message`, `sms-status-SM1-delivered`, `conversation/12`: the parts joined as the producer joins them. */
export function eventId(producer: EventIdProducer, ...parts: readonly (string | number)[]): string {
  return parts.join(SEPARATORS[producer]);
}

/** A fixed-length id part (32 hex characters of SHA-256) for input that is long or names a person. */
export function idDigest(basis: string): string {
  return createHash('sha256').update(basis).digest('hex').slice(0, 32);
}
