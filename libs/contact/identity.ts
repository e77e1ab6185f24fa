// Identity normalisation: one spelling per identity, so the unique index on (kind, value)
// really means "one customer per email / phone / chat visitor".
import { parsePhoneNumberFromString } from 'libphonenumber-js';
import { IdentityKind, type Identity } from '#libs/proto';

export class InvalidIdentityError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidIdentityError';
  }
}

/** The stored form: `value` is what the unique index sees (namespace folded in for OTHER). */
export interface NormalisedIdentity {
  kind: IdentityKind;
  value: string;
  namespace: string;
}

const EMAIL = /^[^\s@<>()",;]{1,64}@[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}[A-Za-z0-9])?)+$/;
const TOKEN = /^[A-Za-z0-9_.:@+-]{1,200}$/;

export function normaliseIdentity(identity: Identity | undefined, defaultCountry = 'US'): NormalisedIdentity {
  if (!identity) throw new InvalidIdentityError('identity is required');
  const raw = identity.value.trim();
  if (!raw) throw new InvalidIdentityError('identity value is empty');
  switch (identity.kind) {
    case IdentityKind.IDENTITY_KIND_EMAIL: {
      const email = raw.toLowerCase();
      if (email.length > 254 || !EMAIL.test(email)) throw new InvalidIdentityError(`not an email address: ${mask(raw)}`);
      return { kind: identity.kind, value: email, namespace: '' };
    }
    case IdentityKind.IDENTITY_KIND_PHONE: {
      const phone = parsePhoneNumberFromString(raw, defaultCountry as never);
      if (!phone || !phone.isPossible()) throw new InvalidIdentityError(`not a phone number: ${mask(raw)}`);
      return { kind: identity.kind, value: phone.number, namespace: '' };
    }
    case IdentityKind.IDENTITY_KIND_CHAT_VISITOR:
      if (!TOKEN.test(raw)) throw new InvalidIdentityError('chat visitor id must be 1-200 letters, digits or _.:@+-');
      return { kind: identity.kind, value: raw, namespace: '' };
    case IdentityKind.IDENTITY_KIND_OTHER: {
      const ns = identity.namespace.trim().toLowerCase();
      if (!/^[a-z0-9_.-]{1,40}$/.test(ns)) throw new InvalidIdentityError('an identity of kind OTHER needs a namespace of 1-40 letters, digits or _.-');
      if (!TOKEN.test(raw)) throw new InvalidIdentityError('identity value must be 1-200 letters, digits or _.:@+-');
      return { kind: identity.kind, value: `${ns}/${raw}`, namespace: ns };
    }
    default:
      throw new InvalidIdentityError('identity kind is missing or unknown');
  }
}

/** Back to the wire form. */
export function toIdentity(n: NormalisedIdentity): Identity {
  const value = n.kind === IdentityKind.IDENTITY_KIND_OTHER ? n.value.slice(n.namespace.length + 1) : n.value;
  return { kind: n.kind, value, namespace: n.namespace };
}

export function identityKey(n: NormalisedIdentity): string {
  return `${n.kind}|${n.value}`;
}

/** Enough to recognise a value in an error message without writing the whole identity (PII) anywhere. */
function mask(s: string): string {
  return s.length <= 2 ? '**' : `${s.slice(0, 2)}***(${s.length} chars)`;
}
