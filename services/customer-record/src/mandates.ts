// Intermediaries (agencies, reservation lines, assistants) and their mandates: who may speak for
// which customer, with what authority, until when. A contact naming a customer is taken as made
// for them only when its sender is a registered intermediary holding a mandate for that
// customer at the time of the contact; anything else stays a claim. No I/O.
import { IdentityKind, IntermediaryKind, MandateAuthority, type Identity } from '#libs/proto';
import { InvalidIdentityError, normaliseIdentity, type NormalisedIdentity } from '#libs/contact';

export interface MandateDoc {
  customerId: string;
  authority: MandateAuthority;
  expiresAt: Date | null;
  grantedBy: string;
  grantedAt: Date;
  revokedAt: Date | null;
}

export interface IntermediaryDoc {
  _id: string;
  name: string;
  kind: IntermediaryKind;
  identities: NormalisedIdentity[];
  mandates: MandateDoc[];
}

/** What a history entry and a context say about a contact made for someone. */
export interface OnBehalfRecord {
  intermediaryId: string;
  intermediaryName: string;
  kind: IntermediaryKind;
  authority: MandateAuthority;
  verified: boolean;
  /** Unverified only: whom the sender named. */
  claimedFor?: NormalisedIdentity;
  /** Unverified only, in words. */
  problem?: string;
}

export class InvalidMandateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMandateError';
  }
}

const KINDS = new Set([
  IntermediaryKind.INTERMEDIARY_KIND_AGENCY,
  IntermediaryKind.INTERMEDIARY_KIND_RESERVATION_LINE,
  IntermediaryKind.INTERMEDIARY_KIND_ASSISTANT,
]);
const AUTHORITIES = new Set([MandateAuthority.MANDATE_AUTHORITY_INFORM, MandateAuthority.MANDATE_AUTHORITY_ACT]);
const DOMAIN = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)+$/;
const APPLICATION = /^[a-z0-9_.-]{1,64}$/;
/** The integration API's sender namespace is `api.<application>`. */
const API_PREFIX = 'api.';
export const MAX_INTERMEDIARY_IDENTITIES = 20;

export function checkKind(kind: IntermediaryKind): IntermediaryKind {
  if (!KINDS.has(kind))
    throw new InvalidMandateError('kind must be INTERMEDIARY_KIND_AGENCY, INTERMEDIARY_KIND_RESERVATION_LINE or INTERMEDIARY_KIND_ASSISTANT');
  return kind;
}

export function checkAuthority(authority: MandateAuthority): MandateAuthority {
  if (!AUTHORITIES.has(authority)) throw new InvalidMandateError('authority must be MANDATE_AUTHORITY_INFORM or MANDATE_AUTHORITY_ACT');
  return authority;
}

/** A mandate must still be in force when it is given: an expiry in the past is a mistake, not a record. */
export function checkExpiry(expiresAt: Date | undefined, now: Date): Date | null {
  if (!expiresAt) return null;
  if (Number.isNaN(expiresAt.getTime())) throw new InvalidMandateError('expires_at is not a time');
  if (expiresAt.getTime() <= now.getTime()) throw new InvalidMandateError('expires_at is not in the future: the mandate would already have expired');
  return expiresAt;
}

/**
 * The intermediary's own identities in stored form. An email value "@agency.example" stands for
 * the whole domain; IDENTITY_KIND_OTHER with namespace "api" names an integration-API application.
 */
export function intermediaryIdentity(identity: Identity, defaultCountry: string): NormalisedIdentity {
  if (identity.kind === IdentityKind.IDENTITY_KIND_EMAIL && identity.value.trim().startsWith('@')) {
    const domain = identity.value.trim().slice(1).toLowerCase();
    if (!DOMAIN.test(domain)) throw new InvalidMandateError('an email domain must look like @agency.example');
    return { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `@${domain}`, namespace: '' };
  }
  if (identity.kind === IdentityKind.IDENTITY_KIND_OTHER) {
    const application = identity.value.trim().toLowerCase();
    if (identity.namespace !== 'api' || !APPLICATION.test(application))
      throw new InvalidMandateError('an identity of kind OTHER must be an integration-API application: namespace "api", value its name');
    return { kind: IdentityKind.IDENTITY_KIND_OTHER, value: `api/${application}`, namespace: 'api' };
  }
  if (identity.kind !== IdentityKind.IDENTITY_KIND_EMAIL && identity.kind !== IdentityKind.IDENTITY_KIND_PHONE)
    throw new InvalidMandateError('an intermediary is known by an email address or domain, a phone number or an API application');
  try {
    return normaliseIdentity(identity, defaultCountry);
  } catch (err) {
    if (err instanceof InvalidIdentityError) throw new InvalidMandateError(`identity: ${err.message}`);
    throw err;
  }
}

/** The key an intermediary identity is found by (`intermediary_identities._id`). */
export function intermediaryKey(n: NormalisedIdentity): string {
  return `${n.kind}|${n.value}`;
}

/** The keys that would recognise a sender, most specific first: its address before its domain. */
export function senderKeys(sender: NormalisedIdentity): string[] {
  if (sender.kind === IdentityKind.IDENTITY_KIND_EMAIL) {
    const domain = sender.value.slice(sender.value.lastIndexOf('@') + 1);
    return [intermediaryKey(sender), intermediaryKey({ ...sender, value: `@${domain}` })];
  }
  if (sender.kind === IdentityKind.IDENTITY_KIND_PHONE) return [intermediaryKey(sender)];
  if (sender.kind === IdentityKind.IDENTITY_KIND_OTHER && sender.namespace.startsWith(API_PREFIX)) {
    const application = sender.namespace.slice(API_PREFIX.length);
    return [intermediaryKey({ kind: IdentityKind.IDENTITY_KIND_OTHER, value: `api/${application}`, namespace: 'api' })];
  }
  return [];
}

/** The intermediary's mandate for the customer in force at `at`, or why there is none. */
export function mandateAt(intermediary: IntermediaryDoc, customerId: string, at: Date): { mandate: MandateDoc } | { problem: string } {
  const m = intermediary.mandates.find((x) => x.customerId === customerId);
  if (!m) return { problem: 'no mandate for the customer named' };
  const t = at.getTime();
  if (m.grantedAt.getTime() > t) return { problem: 'the mandate was given after the contact' };
  if (m.revokedAt && m.revokedAt.getTime() <= t) return { problem: 'the mandate was revoked' };
  if (m.expiresAt && m.expiresAt.getTime() <= t) return { problem: 'the mandate expired' };
  return { mandate: m };
}

/**
 * What a contact naming `claimedFor` is: made for `customerId` with the mandate's authority, or an
 * unverified claim (unknown sender, unknown customer, no mandate in force). The customer id is
 * returned only when verified: nothing about the named customer reaches an unverified claim.
 */
export function judgeOnBehalf(
  intermediary: IntermediaryDoc | null,
  namedCustomerId: string | null,
  claimedFor: NormalisedIdentity,
  at: Date,
): { record: OnBehalfRecord; customerId: string | null } {
  const unverified = (problem: string) => unverifiedClaim(intermediary, claimedFor, problem);
  if (!intermediary) return unverified('the sender is not a registered intermediary');
  // An unknown customer and a known one without a mandate read the same: the sender learns nothing.
  if (!namedCustomerId) return unverified('no mandate for the customer named');
  const found = mandateAt(intermediary, namedCustomerId, at);
  if ('problem' in found) return unverified(found.problem);
  return {
    record: {
      intermediaryId: intermediary._id,
      intermediaryName: intermediary.name,
      kind: intermediary.kind,
      authority: found.mandate.authority,
      verified: true,
    },
    customerId: namedCustomerId,
  };
}

/** A claim nobody verified: who sent it (if registered), whom they named, why it is not taken. */
export function unverifiedClaim(
  intermediary: IntermediaryDoc | null,
  claimedFor: NormalisedIdentity,
  problem: string,
): { record: OnBehalfRecord; customerId: null } {
  return {
    record: {
      intermediaryId: intermediary?._id ?? '',
      intermediaryName: intermediary?.name ?? '',
      kind: intermediary?.kind ?? IntermediaryKind.INTERMEDIARY_KIND_UNSPECIFIED,
      authority: MandateAuthority.MANDATE_AUTHORITY_UNSPECIFIED,
      verified: false,
      claimedFor,
      problem,
    },
    customerId: null,
  };
}

/** The mandates in force for the customer card: not revoked, not expired. */
export function inForce(m: MandateDoc, now: Date): boolean {
  return !m.revokedAt && (!m.expiresAt || m.expiresAt.getTime() > now.getTime());
}
