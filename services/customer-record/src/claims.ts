// What a contact says about its sender, split by trust: the sender (authenticated by its
// channel), identity hints (verified by the channel, may be linked) and claimed identities
// (typed by the sender, shown to agents, never used to find, link or merge anyone). No I/O.
import { IdentityKind, type ContactReceived, type Identity } from '#libs/proto';
import { identityKey, InvalidIdentityError, normaliseIdentity, type NormalisedIdentity } from '#libs/contact';

/** More than this many hints or claims on one contact are ignored: no contact needs them. */
export const MAX_PER_CONTACT = 5;
/** A customer keeps its newest claims only. */
export const MAX_CLAIMS_PER_CUSTOMER = 10;
/** Only addresses and numbers can be claimed; a claimed chat visitor id or OTHER id means nothing. */
const CLAIMABLE = new Set([IdentityKind.IDENTITY_KIND_EMAIL, IdentityKind.IDENTITY_KIND_PHONE]);

export class InvalidSenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidSenderError';
  }
}

export interface ContactIdentities {
  sender: NormalisedIdentity;
  /** Verified by the channel: the projection links these to the sender's customer. */
  hints: NormalisedIdentity[];
  /** Typed by the sender: kept for agents to read, nothing else. */
  claims: NormalisedIdentity[];
  /** What was dropped and why, without the values (they are PII). */
  ignored: { field: 'identity_hints' | 'claimed_identities'; problem: string }[];
}

export function contactIdentities(c: Pick<ContactReceived, 'sender' | 'identityHints' | 'claimedIdentities'>, defaultCountry: string): ContactIdentities {
  let sender: NormalisedIdentity;
  try {
    sender = normaliseIdentity(c.sender, defaultCountry);
  } catch (err) {
    if (err instanceof InvalidIdentityError) throw new InvalidSenderError(`sender ${err.message}`);
    throw err;
  }
  const ignored: ContactIdentities['ignored'] = [];
  const seen = new Set([identityKey(sender)]);
  const hints = normaliseAll(c.identityHints ?? [], 'identity_hints', defaultCountry, ignored, seen, () => true);
  const claims = normaliseAll(c.claimedIdentities ?? [], 'claimed_identities', defaultCountry, ignored, seen, (i) => CLAIMABLE.has(i.kind));
  return { sender, hints, claims, ignored };
}

function normaliseAll(
  list: Identity[],
  field: 'identity_hints' | 'claimed_identities',
  defaultCountry: string,
  ignored: ContactIdentities['ignored'],
  seen: Set<string>,
  allowed: (i: Identity) => boolean,
): NormalisedIdentity[] {
  const out: NormalisedIdentity[] = [];
  if (list.length > MAX_PER_CONTACT) ignored.push({ field, problem: `${list.length - MAX_PER_CONTACT} beyond the first ${MAX_PER_CONTACT} ignored` });
  for (const identity of list.slice(0, MAX_PER_CONTACT)) {
    if (!allowed(identity)) {
      ignored.push({ field, problem: 'only an email address or a phone number can be claimed' });
      continue;
    }
    try {
      const n = normaliseIdentity(identity, defaultCountry);
      // The sender, or a value both verified and claimed, counts once, as the stronger one.
      if (seen.has(identityKey(n))) continue;
      seen.add(identityKey(n));
      out.push(n);
    } catch (err) {
      if (!(err instanceof InvalidIdentityError)) throw err;
      ignored.push({ field, problem: err.message });
    }
  }
  return out;
}

/** The customer's claims after new ones: newest last, no repeats, at most MAX_CLAIMS_PER_CUSTOMER. */
export function withClaims(existing: NormalisedIdentity[], added: NormalisedIdentity[]): NormalisedIdentity[] {
  const byKey = new Map<string, NormalisedIdentity>();
  // A repeated claim moves to the end: the newest say is the one kept last.
  for (const c of [...existing, ...added]) {
    byKey.delete(identityKey(c));
    byKey.set(identityKey(c), c);
  }
  return [...byKey.values()].slice(-MAX_CLAIMS_PER_CUSTOMER);
}

/** Claims an agent still needs to read as claims: one the customer has since verified is an identity. */
export function openClaims(claims: NormalisedIdentity[], identities: NormalisedIdentity[]): NormalisedIdentity[] {
  const held = new Set(identities.map(identityKey));
  return claims.filter((c) => !held.has(identityKey(c)));
}
