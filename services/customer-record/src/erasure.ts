// What an erasure covers and what a replay drops because of it (pure). An erased customer is
// named on cc.erasure.v1 only by keyed hashes of their customer id, identities and conversation
// ids (`#libs/erasure`). A record of the event topics is dropped when one of its subjects was
// erased at or after the record's own time: what the customer sends after the erasure makes a
// new record, as a new customer's would.
import { identityKey, type NormalisedIdentity } from '#libs/contact';
import { ErasureSet, subjectKey } from '#libs/erasure';
import type { ContactReceived, ConversationEvent } from '#libs/proto';

/** What one erasure publishes: a key per customer id, identity and conversation of the customer. */
export function erasureSubjects(
  secret: string,
  erased: { customerIds: readonly string[]; identities: readonly NormalisedIdentity[]; conversationIds: readonly string[] },
): string[] {
  const keys = [
    ...erased.customerIds.map((id) => subjectKey(secret, 'customer', id)),
    ...erased.identities.map((i) => subjectKey(secret, 'identity', identityKey(i))),
    ...erased.conversationIds.map((id) => subjectKey(secret, 'conversation', id)),
  ];
  return [...new Set(keys)];
}

/** The erasures known to this process (read from cc.erasure.v1, and the ones it made itself). */
export class ErasedSubjects extends ErasureSet {
  /** A contact of an erased conversation or from an erased identity, made at or before the erasure. */
  dropsContact(c: ContactReceived): boolean {
    if (this.size === 0) return false;
    const at = c.receivedAt?.getTime() ?? 0;
    if (this.erasedSince('conversation', c.conversationId, at)) return true;
    const sender = c.sender ? this.identityErasedAt(c.sender) : undefined;
    return sender !== undefined && at <= sender;
  }

  /** An event of an erased conversation or customer, at or before the erasure. */
  dropsEvent(e: ConversationEvent): boolean {
    const at = e.occurredAt?.getTime() ?? 0;
    return this.erasedSince('conversation', e.conversationId, at) || (e.customerId !== '' && this.erasedSince('customer', e.customerId, at));
  }
}
