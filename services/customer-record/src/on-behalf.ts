// Whether a contact naming a customer was made for them: the sender's intermediary and the named
// customer are looked up (by _id), then judged by the pure rules in mandates.ts. Used by the
// projection (at the contact's time) and by GetCustomerContext (now), so routing and the history agree.
import { IdentityKind, type Identity } from '#libs/proto';
import { InvalidIdentityError, normaliseIdentity, type NormalisedIdentity } from '#libs/contact';
import { judgeOnBehalf, unverifiedClaim } from './mandates';
import type { CustomerDirectory } from './store/customers';
import type { Intermediaries } from './store/intermediaries';

export interface OnBehalfReaders {
  intermediaries: Pick<Intermediaries, 'forSender'>;
  directory: Pick<CustomerDirectory, 'findCustomerId'>;
}

/** Only an address or a number names a customer; anything else is not a usable claim. */
export function claimedCustomer(identity: Identity, defaultCountry: string): NormalisedIdentity {
  if (identity.kind !== IdentityKind.IDENTITY_KIND_EMAIL && identity.kind !== IdentityKind.IDENTITY_KIND_PHONE)
    throw new InvalidIdentityError('on_behalf_of must be an email address or a phone number');
  return normaliseIdentity(identity, defaultCountry);
}

/** `senderProven` false (an email whose From is not authenticated): nobody is looked up. */
export async function judgeContact(readers: OnBehalfReaders, sender: NormalisedIdentity, claimedFor: NormalisedIdentity, at: Date, senderProven = true) {
  if (!senderProven) return unverifiedClaim(null, claimedFor, "the sender's address is not authenticated");
  const intermediary = await readers.intermediaries.forSender(sender);
  // The named customer is looked up only for a registered intermediary: nobody else gets an answer that depends on it.
  const named = intermediary ? await readers.directory.findCustomerId(claimedFor) : null;
  return judgeOnBehalf(intermediary, named, claimedFor, at);
}
