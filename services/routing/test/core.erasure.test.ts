// Erasure in the routing core, without servers: a conversation of a sender customer-record did
// not name is found by the sender's identity as customer-record hashes it, a phone number written
// without its country code by the country configured, an identity of kind OTHER with its namespace.
import { describe, expect, it } from 'vitest';
import { identityKey, normaliseIdentity } from '#libs/contact';
import { loadConfig } from '#libs/config';
import { ErasureSet, subjectKey } from '#libs/erasure';
import { Channel, ContactKind, ContactReceived, IdentityKind, type Identity } from '#libs/proto';
import { testAuthEnv } from '#libs/testing';
import { RoutingEngine } from '../src/core/engine';
import { senderCustomerKey, senderOfCustomerKey } from '../src/core/memory';
import { routingConfig } from '../src/config';
import { DEFAULT_POLICY } from '../src/core/policy';
import { RoutingErasures } from '../src/erasures';

const SECRET = 'an erasure key of at least thirty-two characters';
const now = Date.UTC(2026, 0, 5, 9, 0, 0);

function engineWith(...senders: Identity[]): RoutingEngine {
  const engine = new RoutingEngine(DEFAULT_POLICY, { now: () => now });
  senders.forEach((sender, i) =>
    engine.contactReceived(
      ContactReceived.fromPartial({
        contactId: `m${i}`,
        conversationId: `c${i}`,
        channel: Channel.CHANNEL_SMS,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        sender,
        text: 'hello',
        language: 'en',
        newConversation: true,
      }),
      {},
    ),
  );
  return engine;
}

/** The erasure of one identity, named as customer-record names it (normalised in `country`). */
function erasureOf(identity: Identity, country: string, routingCountry = country): ErasureSet {
  const key = subjectKey(SECRET, 'identity', identityKey(normaliseIdentity(identity, country)));
  return ErasureSet.of(SECRET, [{ subjectKey: key, erasedAt: new Date(now + 1000) }], routingCountry);
}

describe('erasure in the routing core', () => {
  const national: Identity = { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '06 12 34 56 78', namespace: '' };
  const other = (namespace: string): Identity => ({ kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'member-4711', namespace });

  it('drops the conversation of a number without country code when routing reads it in the same country as customer-record', () => {
    const engine = engineWith(national, { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+33698765432', namespace: '' });
    expect(engine.erase(erasureOf(national, 'FR')).counts.conversations).toBe(1);
    expect(engine.conversationState('c0')).toBeUndefined();
    expect(engine.conversationState('c1')).toBeDefined();
  });

  it('takes the country routing reads numbers in from DEFAULT_PHONE_COUNTRY', () => {
    const config = loadConfig(routingConfig, { ...testAuthEnv('routing'), DEFAULT_PHONE_COUNTRY: 'FR' });
    const known = new RoutingErasures(SECRET, config.DEFAULT_PHONE_COUNTRY).known;
    known.add(subjectKey(SECRET, 'identity', identityKey(normaliseIdentity(national, 'FR'))), new Date(now));
    expect(known.identityErasedAt(national)).toBe(now);
    expect(() => loadConfig(routingConfig, { ...testAuthEnv('routing'), DEFAULT_PHONE_COUNTRY: 'France' })).toThrow(/two-letter country code/);
  });

  it('does not match that number when routing assumes another country (why the setting must agree)', () => {
    const engine = engineWith(national);
    expect(engine.erase(erasureOf(national, 'FR', 'US')).counts.conversations).toBe(0);
  });

  it('drops the conversation of a sender of kind OTHER by its namespace, and not one of the same value in another namespace', () => {
    const engine = engineWith(other('loyalty'), other('partner'));
    expect(engine.erase(erasureOf(other('Loyalty'), 'US')).counts.conversations).toBe(1);
    expect(engine.conversationState('c0')).toBeUndefined();
    expect(engine.conversationState('c1')).toBeDefined();
  });

  it('keys senders so that the key gives the identity back', () => {
    for (const sender of [national, other('loyalty'), { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'ana@example.com', namespace: '' }])
      expect(senderOfCustomerKey(senderCustomerKey(sender))).toEqual(sender);
    expect(senderCustomerKey(other('loyalty'))).not.toBe(senderCustomerKey(other('partner')));
    // Customer ids, conversation keys and an OTHER key without a namespace name no identity.
    for (const key of ['cus_123', 'conversation:c1', `${IdentityKind.IDENTITY_KIND_OTHER}:member-4711`]) expect(senderOfCustomerKey(key)).toBeUndefined();
  });
});
