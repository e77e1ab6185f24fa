// Across services: a contact an agency makes for a customer under a mandate is offered first to
// that customer's account manager. customer-record judges the mandate; routing asks it over gRPC
// for the customer's context, as it does for every contact; both over the real broker and store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Channel, ContactKind, ContactReceived, IdentityKind, IntermediaryKind, MandateAuthority, Presence, SenderVerdict, Tier } from '#libs/proto';
import { testContext, uniqueId, waitFor } from '#libs/testing';
import { startRouting } from '../../services/routing/src/service';
import { client, configFor, deliver, useRoutingHarness } from '../../services/routing/test/helpers';
import { dropDatabase, REASON, startHarness, type Harness } from '../../services/customer-record/test/harness';

const email = (value: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' });
const h = useRoutingHarness();
let record: Harness;
const routingCtx = testContext('e2e-routing');

beforeAll(async () => {
  record = await startHarness();
});
afterAll(async () => {
  await routingCtx.stop();
  await record.stop();
  await dropDatabase(record.database);
});

describe('a contact made on behalf is routed to the account manager', () => {
  it('offers it to the customer account manager first; a claim without a mandate goes to the queue', { timeout: 120_000 }, async () => {
    const customerAddress = `${uniqueId('kim').toLowerCase()}@example.com`;
    const customerId = (
      await record.call<object, { customer: { customerId: string } }>('resolveCustomer', { identity: email(customerAddress), reason: REASON })
    ).customer.customerId;
    const managerId = uniqueId('manager');
    const otherId = uniqueId('agent');
    await record.call('upsertAccount', {
      account: { accountId: uniqueId('acct'), name: 'Kim Park', managerAgentId: managerId, memberCustomerIds: [customerId] },
    });
    const domain = `${uniqueId('agency').toLowerCase()}.example`;
    const intermediaryId = uniqueId('im');
    await record.call('upsertIntermediary', {
      intermediary: { intermediaryId, name: 'Sunway', kind: IntermediaryKind.INTERMEDIARY_KIND_AGENCY, identities: [email(`@${domain}`)] },
    });
    await record.call('grantMandate', { intermediaryId, customerId, authority: MandateAuthority.MANDATE_AUTHORITY_ACT });

    const config = configFor(h.database('routing_onbehalf'), uniqueId('routing-onbehalf'), {
      CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${record.service.grpcPort}`,
      ROUTING_CUSTOMER_LOOKUP_TIMEOUT_MS: '10000',
      ROUTING_ACCOUNT_MANAGER_WAIT_MS: '60000',
    });
    const routing = await startRouting(routingCtx, config);
    const { grpcPort } = routing;
    const supervisor = await client(grpcPort, 'sup', 'supervisor');
    const agents = { manager: await client(grpcPort, managerId, 'agent'), other: await client(grpcPort, otherId, 'agent') };
    for (const [id, agent] of [
      [managerId, agents.manager],
      [otherId, agents.other],
    ] as const) {
      await supervisor.call(supervisor.raw.registerAgent, {
        agentId: id,
        name: id,
        tier: Tier.TIER_FRONT_OFFICE,
        skills: [{ name: 'general', level: 3 }],
        languages: ['en'],
        capacity: [{ channel: Channel.CHANNEL_EMAIL, capacity: 5, active: 0 }],
        totalCapacity: 5,
      });
      await agent.call(agent.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE });
      agent.watch();
    }
    await waitFor(() => agents.manager.updates.some((u) => u.update?.$case === 'agentState'), 10_000, 'the streams to open');

    const offerTo = (agent: (typeof agents)['manager'], conversationId: string) =>
      agent.updates.find((u) => u.update?.$case === 'offer' && u.update.offer.conversationId === conversationId);
    const mail = (onBehalfOf: string) =>
      ContactReceived.fromPartial({
        contactId: uniqueId('msg'),
        conversationId: uniqueId('conv'),
        channel: Channel.CHANNEL_EMAIL,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        receivedAt: new Date(),
        sender: email(`desk@${domain}`),
        senderDisplayName: 'Sunway desk',
        newConversation: true,
        conversationReference: 'AB12CD',
        subject: 'Booking change',
        text: 'Please move the booking to Friday',
        quotedText: '',
        attachments: [],
        identityHints: [],
        senderAuthentication: { verdict: SenderVerdict.SENDER_VERDICT_PASS, fromAligned: true },
        onBehalfOf: email(onBehalfOf),
      });

    const made = mail(customerAddress);
    // Delivered until routing has the conversation; the offer follows its look-up in customer-record.
    const offered = (id: string) => offerTo(agents.manager, id) ?? offerTo(agents.other, id);
    await deliver(h.kafka, made as never, () => routing.engine.conversationState(made.conversationId) !== undefined);
    await waitFor(() => offered(made.conversationId), 30_000, 'the offer of the contact made on behalf');
    const offer = offerTo(agents.manager, made.conversationId);
    expect(offer?.update?.$case === 'offer' && offer.update.offer.reason).toMatchObject({ code: 'target.account_manager', targetStep: 1 });

    // Naming a customer without a mandate borrows nothing: not the manager's step.
    const claim = mail(`${uniqueId('lee').toLowerCase()}@example.com`);
    await deliver(h.kafka, claim as never, () => routing.engine.conversationState(claim.conversationId) !== undefined);
    const claimOffer = await waitFor(() => offered(claim.conversationId), 30_000, 'the offer of the claim');
    expect(claimOffer?.update?.$case === 'offer' && claimOffer.update.offer.reason?.code).not.toBe('target.account_manager');
  });
});
