// What the data-protection officer's look-up asks and shows, without I/O: the one field it
// searches by, checked (a malformed address or number is named), and a found customer as the
// officer tells them apart: their identities masked, never a whole address or number.
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { IdentityKind, type FindCustomersRequest, type FoundCustomer } from '#libs/proto';
import { InvalidIdentityError, normaliseIdentity, type NormalisedIdentity } from '#libs/contact';
import { InvalidArgumentError } from '#libs/service';
import type { CustomerDoc } from './store/records';
import { nameMatch } from './search/folding';

/** How many customers one look-up returns; a name shared by more is refined, not paged. */
export const MAX_FOUND = 20;

/** Customers a look-up by name reads by `_id`: three times what it shows, for those merged or renamed since the index saw their name. */
export const NAME_CANDIDATES = 3 * (MAX_FOUND + 1);

export type OfficerLookup = { by: 'identity'; identity: NormalisedIdentity } | { by: 'name'; words: string[] };

/** Exactly one of email, phone, name and identity, checked; INVALID_ARGUMENT saying what is wrong. */
export function parseLookup(req: Pick<FindCustomersRequest, 'email' | 'phone' | 'name' | 'identity'>, defaultCountry: string): OfficerLookup {
  const given = [...(['email', 'phone', 'name'] as const).filter((f) => req[f].trim() !== ''), ...(req.identity?.value.trim() ? (['identity'] as const) : [])];
  if (given.length !== 1)
    throw new InvalidArgumentError(`give exactly one of email, phone, name and identity; got ${given.length ? given.join(' and ') : 'none'}`);
  const field = given[0]!;
  if (field === 'name') return { by: 'name', words: nameWords(req.name) };
  const identity =
    field === 'identity'
      ? req.identity!
      : { kind: field === 'email' ? IdentityKind.IDENTITY_KIND_EMAIL : IdentityKind.IDENTITY_KIND_PHONE, value: req[field], namespace: '' };
  try {
    return { by: 'identity', identity: normaliseIdentity(identity, defaultCountry) };
  } catch (err) {
    if (err instanceof InvalidIdentityError) throw new InvalidArgumentError(`${field}: ${err.message}`);
    throw err;
  }
}

function nameWords(name: string): string[] {
  const trimmed = name.trim();
  if (trimmed.length < 2 || trimmed.length > 100) throw new InvalidArgumentError('name must be 2-100 characters');
  const words = trimmed.split(/\s+/);
  if (words.length > 5) throw new InvalidArgumentError('name has more than 5 words');
  if (!nameMatch(words)) throw new InvalidArgumentError('name must hold a letter or a digit');
  return words.map((w) => w.toLowerCase());
}

/** Enough of an identity to tell two customers apart, not enough to contact anyone. */
export function maskIdentity(i: NormalisedIdentity): string {
  switch (i.kind) {
    case IdentityKind.IDENTITY_KIND_EMAIL: {
      const at = i.value.lastIndexOf('@');
      return `${i.value.slice(0, Math.min(2, Math.max(1, at - 1)))}***${i.value.slice(at)}`;
    }
    case IdentityKind.IDENTITY_KIND_PHONE: {
      const code = parsePhoneNumberFromString(i.value)?.countryCallingCode;
      return `${code ? `+${code} ` : ''}•••${i.value.slice(-2)}`;
    }
    case IdentityKind.IDENTITY_KIND_CHAT_VISITOR:
      return `chat visitor ${i.value.slice(0, 2)}***`;
    default:
      return `${i.namespace}/***`;
  }
}

/** The newest activity on the customer's conversations, from the summaries the customer document carries. */
export function lastContactOf(c: CustomerDoc): Date | undefined {
  const times = [...c.recentConversations.map((r) => new Date(r.lastActivityAt).getTime()), ...c.conversationStarts.map((d) => new Date(d).getTime())];
  return times.length ? new Date(Math.max(...times)) : undefined;
}

export function foundCustomer(c: CustomerDoc): FoundCustomer {
  const lastContactAt = lastContactOf(c);
  return {
    customerId: c._id,
    displayName: c.displayName,
    maskedIdentities: c.identities.map(maskIdentity),
    conversationCount: c.conversationStarts.length,
    createdAt: c.createdAt,
    ...(lastContactAt ? { lastContactAt } : {}),
  };
}

/** Newest contact first, so the customer who wrote lately (the likely requester) leads. */
export function byLastContact(a: FoundCustomer, b: FoundCustomer): number {
  return (b.lastContactAt?.getTime() ?? 0) - (a.lastContactAt?.getTime() ?? 0);
}
