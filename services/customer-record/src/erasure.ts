// What an erasure covers and what a replay drops because of it (pure). An erased customer is
// named on cc.erasure.v1 only by keyed hashes of their customer id, identities and conversation
// ids, so the compacted topic that outlives the data never holds the data. A record of the event
// topics is dropped when one of its subjects was erased at or after the record's own time: what
// the customer sends after the erasure makes a new record, as a new customer's would.
import { createHmac } from 'node:crypto';
import type { ContactReceived, ConversationEvent } from '#libs/proto';
import { identityKey, InvalidIdentityError, normaliseIdentity, type NormalisedIdentity } from './identity';

export type SubjectKind = 'customer' | 'identity' | 'conversation';

/** HMAC-SHA256 of `<kind>:<value>` under the erasure key, hex: a subject the topic can name without holding it. */
export function subjectKey(secret: string, kind: SubjectKind, value: string): string {
  return createHmac('sha256', secret).update(`${kind}:${value}`).digest('hex');
}

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
export class ErasedSubjects {
  private readonly erasedAt = new Map<string, number>();

  constructor(
    private readonly secret: string,
    private readonly defaultCountry: string,
  ) {}

  get size(): number {
    return this.erasedAt.size;
  }

  /** Keeps the latest erasure of a subject: a customer erased twice drops everything before the second. */
  add(key: string, at: Date): void {
    const ms = at.getTime();
    if ((this.erasedAt.get(key) ?? -Infinity) < ms) this.erasedAt.set(key, ms);
  }

  /** A contact of an erased conversation or from an erased identity, made at or before the erasure. */
  dropsContact(c: ContactReceived): boolean {
    const at = c.receivedAt?.getTime() ?? 0;
    if (this.erasedSince('conversation', c.conversationId, at)) return true;
    const sender = this.senderKey(c);
    return sender !== null && this.erasedSince('identity', sender, at);
  }

  /** An event of an erased conversation or customer, at or before the erasure. */
  dropsEvent(e: ConversationEvent): boolean {
    const at = e.occurredAt?.getTime() ?? 0;
    return this.erasedSince('conversation', e.conversationId, at) || (e.customerId !== '' && this.erasedSince('customer', e.customerId, at));
  }

  private erasedSince(kind: SubjectKind, value: string, at: number): boolean {
    if (this.erasedAt.size === 0 || !value) return false;
    const erased = this.erasedAt.get(subjectKey(this.secret, kind, value));
    return erased !== undefined && at <= erased;
  }

  private senderKey(c: ContactReceived): string | null {
    try {
      return identityKey(normaliseIdentity(c.sender, this.defaultCountry));
    } catch (err) {
      // A sender that is not an identity is refused by the projection itself; nothing to match.
      if (err instanceof InvalidIdentityError) return null;
      throw err;
    }
  }
}
