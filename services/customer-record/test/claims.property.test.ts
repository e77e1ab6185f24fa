// Hostile ContactReceived records against the pure rules that decide what the projection may
// link (hints) and what it only keeps for agents (claims). No servers.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { IdentityKind, type Identity } from '#libs/proto';
import { contactIdentities, InvalidSenderError, MAX_CLAIMS_PER_CUSTOMER, MAX_PER_CONTACT, openClaims, withClaims } from '../src/claims';
import { identityKey, normaliseIdentity, toIdentity } from '#libs/contact';

const kinds = fc.constantFrom(
  IdentityKind.IDENTITY_KIND_UNSPECIFIED,
  IdentityKind.IDENTITY_KIND_EMAIL,
  IdentityKind.IDENTITY_KIND_PHONE,
  IdentityKind.IDENTITY_KIND_CHAT_VISITOR,
  IdentityKind.IDENTITY_KIND_OTHER,
  99 as IdentityKind,
);
const values = fc.oneof(
  fc.string({ maxLength: 300 }),
  fc.emailAddress(),
  fc.constantFrom('+14155550100', '+44 7700 900123', 'v_abc', '<script>alert(1)</script>@x.test', 'ANA@Example.COM', ' ', '\u0000@\u0000'),
);
const identity: fc.Arbitrary<Identity> = fc.record({
  kind: kinds,
  value: values,
  namespace: fc.oneof(fc.constant(''), fc.string({ maxLength: 50 }), fc.constant('crm')),
});
const contact = fc.record({
  sender: fc.oneof(identity, fc.constant(undefined)),
  identityHints: fc.array(identity, { maxLength: 12 }),
  claimedIdentities: fc.array(identity, { maxLength: 12 }),
});

describe('claims and hints of hostile contacts', () => {
  it('never throws but InvalidSenderError, keeps at most five of each, only claimable kinds as claims, nothing twice', () => {
    fc.assert(
      fc.property(contact, (c) => {
        let result;
        try {
          result = contactIdentities(c, 'US');
        } catch (err) {
          expect(err).toBeInstanceOf(InvalidSenderError);
          return;
        }
        expect(result.hints.length).toBeLessThanOrEqual(MAX_PER_CONTACT);
        expect(result.claims.length).toBeLessThanOrEqual(MAX_PER_CONTACT);
        expect(result.claims.every((n) => n.kind === IdentityKind.IDENTITY_KIND_EMAIL || n.kind === IdentityKind.IDENTITY_KIND_PHONE)).toBe(true);
        const keys = [result.sender, ...result.hints, ...result.claims].map(identityKey);
        expect(new Set(keys).size).toBe(keys.length);
        // Every kept identity is in its one stored spelling.
        for (const n of [...result.hints, ...result.claims]) expect(normaliseIdentity(toIdentity(n), 'US')).toEqual(n);
        // What was dropped is described without the value itself (PII).
        for (const { problem } of result.ignored) {
          for (const i of [...c.identityHints, ...c.claimedIdentities]) if (i.value.trim().length > 8) expect(problem).not.toContain(i.value.trim());
        }
      }),
      { numRuns: 500 },
    );
  });

  it('never makes a claim out of what the sender is or a verified hint holds', () => {
    fc.assert(
      fc.property(fc.emailAddress(), fc.array(fc.emailAddress(), { maxLength: 4 }), (address, others) => {
        const email = (value: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' });
        const r = contactIdentities(
          { sender: email(address), identityHints: others.map(email), claimedIdentities: [email(address.toUpperCase()), ...others.map(email)] },
          'US',
        );
        expect(r.claims).toEqual([]);
      }),
      { numRuns: 200 },
    );
  });

  it("keeps a customer's newest ten claims without repeats, and shows none the customer has since verified", () => {
    const claim = fc.emailAddress().map((value) => normaliseIdentity({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' }));
    fc.assert(
      fc.property(fc.array(fc.array(claim, { maxLength: 5 }), { maxLength: 8 }), fc.array(claim, { maxLength: 3 }), (batches, verified) => {
        let kept: ReturnType<typeof withClaims> = [];
        for (const batch of batches) kept = withClaims(kept, batch);
        expect(kept.length).toBeLessThanOrEqual(MAX_CLAIMS_PER_CUSTOMER);
        expect(new Set(kept.map(identityKey)).size).toBe(kept.length);
        const last = batches.at(-1)?.at(-1);
        if (last) expect(kept.at(-1)).toEqual(last);
        const open = openClaims(kept, verified);
        expect(open.some((c) => verified.some((v) => identityKey(v) === identityKey(c)))).toBe(false);
      }),
    );
  });
});
