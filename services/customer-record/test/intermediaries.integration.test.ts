// Intermediaries and mandates through the real gRPC API, store and broker: registering, bad
// input refused with nothing stored, contacts made on a customer's behalf recorded with their
// authority, and a claim without a mandate kept off the named customer.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import {
  Channel,
  IdentityKind,
  IntermediaryKind,
  MandateAuthority,
  type GetCustomerContextResponse,
  type GetHistoryResponse,
  type UpsertIntermediaryResponse,
  type ResolveCustomerResponse,
  SenderAuthentication,
  SenderVerdict,
} from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { KAFKA_BROKERS, testContext, uniqueId, waitFor } from '#libs/testing';
import { dropDatabase, REASON, startHarness, type Harness, emailContact } from './harness';

const KAFKA_WAIT_MS = 45_000;
const email = (value: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' });

const contact = (over: Parameters<typeof emailContact>[0]) =>
  emailContact({
    subject: 'Booking for my client',
    text: 'Please move the booking to Friday',
    // The agency's mail server signs its mail: the From is authenticated.
    senderAuthentication: SenderAuthentication.fromPartial({ verdict: SenderVerdict.SENDER_VERDICT_PASS, fromAligned: true }),
    ...over,
  });

describe('intermediaries and mandates', () => {
  let h: Harness;
  let kctx: ServiceContext;
  let kafka: ServiceKafka;
  const domain = `${uniqueId('agency').toLowerCase()}.example`;
  const intermediaryId = uniqueId('im');
  let customerId = '';
  let customerAddress = '';

  beforeAll(async () => {
    h = await startHarness();
    kctx = testContext('intermediaries-producer');
    kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
    customerAddress = `${uniqueId('kim').toLowerCase()}@example.com`;
    const resolved = await h.call<object, ResolveCustomerResponse>('resolveCustomer', {
      identity: email(customerAddress),
      displayName: 'Kim Park',
      reason: REASON,
    });
    customerId = resolved.customer!.customerId;
  });
  afterAll(async () => {
    await kctx.stop();
    await h.stop();
    await dropDatabase(h.database);
  });

  const upsert = (over: object = {}) =>
    h.call<object, UpsertIntermediaryResponse>('upsertIntermediary', {
      intermediary: { intermediaryId, name: 'Sunway <Travel>', kind: IntermediaryKind.INTERMEDIARY_KIND_AGENCY, identities: [email(`@${domain}`)], ...over },
      reason: 'contract signed',
    });
  const grant = (over: object = {}) =>
    h.call<object, UpsertIntermediaryResponse>('grantMandate', {
      intermediaryId,
      customerId,
      authority: MandateAuthority.MANDATE_AUTHORITY_ACT,
      reason: 'signed form',
      ...over,
    });
  const stored = () => h.service.store.intermediaries.intermediaries.findOne({ _id: intermediaryId });

  it('registers an intermediary and a mandate, shown on the customer card; bad input is refused and nothing stored', async () => {
    // Nothing exists yet: a mandate for an unknown intermediary stores nothing.
    await expect(grant()).rejects.toMatchObject({ code: status.NOT_FOUND, details: `no intermediary ${intermediaryId}` });
    await expect(upsert({ kind: IntermediaryKind.INTERMEDIARY_KIND_UNSPECIFIED })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/^kind must be/),
    });
    await expect(upsert({ identities: [{ kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: 'v1', namespace: '' }] })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
    });
    expect(await stored()).toBeNull();

    const registered = await upsert();
    expect(registered.intermediary).toMatchObject({ intermediaryId, name: 'Sunway <Travel>', identities: [email(`@${domain}`)], mandates: [] });

    await expect(grant({ customerId: 'no-such-customer' })).rejects.toMatchObject({ code: status.NOT_FOUND, details: 'no customer no-such-customer' });
    await expect(grant({ authority: MandateAuthority.MANDATE_AUTHORITY_UNSPECIFIED })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'authority must be MANDATE_AUTHORITY_INFORM or MANDATE_AUTHORITY_ACT',
    });
    await expect(grant({ authority: 9 })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    await expect(grant({ expiresAt: new Date(Date.now() - 60_000) })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/not in the future/),
    });
    await expect(h.call('revokeMandate', { intermediaryId, customerId, reason: 'x' })).rejects.toMatchObject({ code: status.NOT_FOUND });
    expect((await stored())!.mandates).toEqual([]);
    // Agents may not manage mandates.
    await expect(h.call('grantMandate', { intermediaryId, customerId, authority: 1 }, 'agent')).rejects.toMatchObject({ code: status.PERMISSION_DENIED });

    const expiresAt = new Date(Date.now() + 30 * 86_400_000);
    const granted = await grant({ expiresAt });
    expect(granted.intermediary!.mandates).toMatchObject([
      { customerId, authority: MandateAuthority.MANDATE_AUTHORITY_ACT, expiresAt, grantedBy: 'supervisor-1' },
    ]);
    const card = await h.call<object, GetCustomerContextResponse>('getCustomerContext', { customerId, reason: REASON });
    expect(card.customer!.representatives).toEqual([
      {
        intermediaryId,
        name: 'Sunway <Travel>',
        kind: IntermediaryKind.INTERMEDIARY_KIND_AGENCY,
        authority: MandateAuthority.MANDATE_AUTHORITY_ACT,
        expiresAt,
      },
    ]);
    const audit = await h.service.audit.flush().then(() => h.service.store.audit.find({ action: 'GrantMandate', customerId }).toArray());
    expect(audit).toHaveLength(1);
  });

  it('records a contact from the intermediary for the customer with its authority; routing sees that customer', { timeout: 90_000 }, async () => {
    const sender = email(`desk@${domain}`);
    const made = contact({ sender, senderDisplayName: 'Sunway desk', onBehalfOf: email(customerAddress.toUpperCase()) });
    await kafka.producer.publish(topics.contactInbound, made.conversationId, made);
    const history = await waitFor(
      async () => {
        const page = await h.call<object, GetHistoryResponse>('getHistory', { customerId, reason: REASON });
        // The contact's own entry: other tests' routing instances add steps to the same conversation.
        return page.entries.find((e) => e.entryId === `contact:${made.contactId}`) ? page : undefined;
      },
      KAFKA_WAIT_MS,
      'the contact made on behalf',
    );
    const entry = history.entries.find((e) => e.entryId === `contact:${made.contactId}`)!;
    expect(entry.onBehalf).toEqual({
      intermediaryId,
      intermediaryName: 'Sunway <Travel>',
      kind: IntermediaryKind.INTERMEDIARY_KIND_AGENCY,
      authority: MandateAuthority.MANDATE_AUTHORITY_ACT,
      verified: true,
      claimedFor: undefined,
      problem: '',
    });
    // The agency is no customer: its address was not made into a record.
    expect(await h.service.store.findCustomerId({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: sender.value, namespace: '' })).toBeNull();
    // What routing asks: the context of the customer the mandate covers.
    const routed = await h.call<object, GetCustomerContextResponse>('getCustomerContext', { identity: sender, onBehalfOf: email(customerAddress) }, 'service');
    expect(routed.customer!.customerId).toBe(customerId);
    expect(routed.onBehalf).toMatchObject({ verified: true, authority: MandateAuthority.MANDATE_AUTHORITY_ACT });
  });

  it('recognises a reservation line that submits through the integration API by its application', { timeout: 90_000 }, async () => {
    const lineId = uniqueId('im-line');
    const application = uniqueId('resline').toLowerCase();
    await h.call('upsertIntermediary', {
      intermediary: {
        intermediaryId: lineId,
        name: 'Night line',
        kind: IntermediaryKind.INTERMEDIARY_KIND_RESERVATION_LINE,
        identities: [{ kind: IdentityKind.IDENTITY_KIND_OTHER, value: application, namespace: 'api' }],
      },
    });
    await h.call('grantMandate', { intermediaryId: lineId, customerId, authority: MandateAuthority.MANDATE_AUTHORITY_INFORM });
    const sender = { kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'caller-7', namespace: `api.${application}` };
    const made = contact({ channel: Channel.CHANNEL_API, sender, senderAuthentication: undefined, onBehalfOf: email(customerAddress) });
    await kafka.producer.publish(topics.contactInbound, made.conversationId, made);
    const entry = await waitFor(
      async () => (await h.service.store.history.findOne({ _id: `contact:${made.contactId}` })) ?? undefined,
      KAFKA_WAIT_MS,
      'the API contact',
    );
    expect(entry.customerId).toBe(customerId);
    expect(entry.onBehalf).toMatchObject({ intermediaryId: lineId, verified: true, authority: MandateAuthority.MANDATE_AUTHORITY_INFORM });
  });

  it('keeps a claim for a customer without a mandate on the sender alone: never linked, nothing of the named customer shown', { timeout: 90_000 }, async () => {
    const other = `${uniqueId('lee').toLowerCase()}@example.com`;
    const otherId = (await h.call<object, ResolveCustomerResponse>('resolveCustomer', { identity: email(other), displayName: 'Lee Chan', reason: REASON }))
      .customer!.customerId;
    const sender = email(`desk@${domain}`);
    const claim = contact({ sender, senderDisplayName: 'Sunway desk', onBehalfOf: email(other) });
    await kafka.producer.publish(topics.contactInbound, claim.conversationId, claim);
    const projected = (id: string) => async () => (await h.service.store.history.findOne({ _id: `contact:${id}` })) ?? undefined;
    await waitFor(projected(claim.contactId), KAFKA_WAIT_MS, 'the claimed contact');
    const conversation = (await h.service.store.findConversation(claim.conversationId))!;
    expect(conversation.customerId).not.toBe(otherId);
    const own = await h.call<object, GetHistoryResponse>('getHistory', { customerId: conversation.customerId, reason: REASON });
    expect(own.entries.find((e) => e.entryId === `contact:${claim.contactId}`)!.onBehalf).toMatchObject({
      intermediaryId,
      verified: false,
      authority: 0,
      claimedFor: email(other),
      problem: 'no mandate for the customer named',
    });
    // A forged From of the agency borrows nothing, even for the customer it has a mandate for.
    const forged = contact({ sender, onBehalfOf: email(customerAddress), senderAuthentication: { verdict: SenderVerdict.SENDER_VERDICT_FAIL } as never });
    await kafka.producer.publish(topics.contactInbound, forged.conversationId, forged);
    const forgedEntry = await waitFor(projected(forged.contactId), KAFKA_WAIT_MS, 'the forged contact');
    expect(forgedEntry.customerId).not.toBe(customerId);
    expect(forgedEntry.onBehalf).toMatchObject({ verified: false, intermediaryId: '', problem: "the sender's address is not authenticated" });
    const named = await h.call<object, GetHistoryResponse>('getHistory', { customerId: otherId, reason: REASON });
    expect(named.entries).toEqual([]);
    // Routing gets the sender's own context, not the named customer's.
    const routed = await h.call<object, GetCustomerContextResponse>('getCustomerContext', { identity: sender, onBehalfOf: email(other) }, 'service');
    expect(routed.customer!.customerId).toBe(conversation.customerId);
    expect(routed.onBehalf).toMatchObject({ verified: false, problem: 'no mandate for the customer named' });
    // An unknown customer reads exactly the same.
    const unknown = await h.call<object, GetCustomerContextResponse>(
      'getCustomerContext',
      { identity: sender, onBehalfOf: email(`${uniqueId('nobody')}@example.com`) },
      'service',
    );
    expect(unknown.onBehalf!.problem).toBe('no mandate for the customer named');
  });

  it('ends a mandate on revocation: the card no longer shows it, earlier contacts keep their record', async () => {
    const revoked = await h.call<object, UpsertIntermediaryResponse>('revokeMandate', { intermediaryId, customerId, reason: 'contract ended' });
    expect(revoked.intermediary!.mandates[0]!.revokedAt).toBeInstanceOf(Date);
    const card = await h.call<object, GetCustomerContextResponse>('getCustomerContext', { customerId, reason: REASON });
    expect(card.customer!.representatives.map((r) => r.intermediaryId)).not.toContain(intermediaryId);
    const page = await h.call<object, GetHistoryResponse>('getHistory', { customerId, reason: REASON });
    expect(page.entries.some((e) => e.onBehalf?.verified)).toBe(true);
  });
});
