// What a chat visitor's message says about who sent it: the visitor id (the sender, from our
// own signed token), the email proven with a code (an identity) and what was only typed (claims).
import { IdentityKind, type Identity } from '#libs/proto';
import type { VisitorProfile } from './protocol';

export function contactIdentities(profile: VisitorProfile, verifiedEmail: string | undefined): { verified: Identity[]; claimed: Identity[] } {
  const verified: Identity[] = verifiedEmail ? [{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: verifiedEmail, namespace: '' }] : [];
  const claimed: Identity[] = [];
  if (profile.email && profile.email !== verifiedEmail) claimed.push({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: profile.email, namespace: '' });
  if (profile.phone) claimed.push({ kind: IdentityKind.IDENTITY_KIND_PHONE, value: profile.phone, namespace: '' });
  return { verified, claimed };
}
