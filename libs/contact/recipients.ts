// Whom the company may write to first: only an identity the customer's channels verified.
// Shared by the integration API and the desk, which both start conversations.
import { type Customer, type Identity, IdentityKind } from '../proto';

/** The recipient as customer-record keeps identities (emails lower-cased, phones in E.164). */
export function recipientIdentity(channel: 'email' | 'sms', to: string): Identity {
  return channel === 'email'
    ? { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: to.toLowerCase(), namespace: '' }
    : { kind: IdentityKind.IDENTITY_KIND_PHONE, value: to, namespace: '' };
}

/**
 * Why the company may not write to this recipient, or undefined when it may: the address must
 * be one the customer's channels verified. A claim (typed into a chat, passed by an
 * application) is never enough: writing to it would send the customer's conversation to a stranger.
 */
export function recipientRefusal(customer: Customer, recipient: Identity): string | undefined {
  if (customer.mergedInto) return `customer ${customer.customerId} was merged into ${customer.mergedInto}: start the conversation with that customer`;
  const same = (i: Identity) => i.kind === recipient.kind && i.value === recipient.value;
  if (customer.identities.some(same)) return undefined;
  if (customer.claimedIdentities.some(same)) return 'the customer only said this is theirs; nobody verified it, so the company does not write to it';
  return "this is not one of the customer's verified identities";
}

/** The first verified identity the customer has on the channel: where a notice to them goes. */
export function verifiedRecipient(customer: Customer, channel: 'email' | 'sms'): Identity | undefined {
  const kind = channel === 'email' ? IdentityKind.IDENTITY_KIND_EMAIL : IdentityKind.IDENTITY_KIND_PHONE;
  return customer.mergedInto ? undefined : customer.identities.find((i) => i.kind === kind);
}
