// Writing first to customers from the desk, across the desk, routing and customer-record over
// the real broker and store: an agent writes to the customer of their conversation at a verified
// address, the first message goes out as theirs, and the customer's answer comes back to them in
// the queue they chose; an address the customer only claimed is refused; a supervisor's notice
// writes once to each customer with a verified address, however often it is sent. And the
// supervisor's opening hours, changed from the desk without a restart.
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ContactKind, ContactReceived, IdentityKind, Presence, SenderVerdict, Tier } from '#libs/proto';
import { StaffRoster } from '#libs/staff';
import { dropDatabase, MONGODB_URI, recordTopics, testContext, uniqueId, waitFor } from '#libs/testing';
import { startRouting } from '../../services/routing/src/service';
import { startTestDesk } from '../../services/agent-desk/test/stack';
import { client, configFor, deliver, useRoutingHarness } from '../../services/routing/test/helpers';
import { REASON, startHarness, type Harness } from '../../services/customer-record/test/harness';
import { DESK_PASSWORD, deskCall, deskSignIn, type DeskSession } from './desk-session';

const PASSWORD = DESK_PASSWORD;
const email = (value: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' });
const h = useRoutingHarness();
const staffDb = uniqueId('outreach_staff').replace(/-/g, '_');
const routingCtx = testContext('e2e-outreach-routing');
const deskCtx = testContext('e2e-outreach-desk');
const agentId = uniqueId('ana').toLowerCase();
const supervisorId = uniqueId('sue').toLowerCase();
let record: Harness;
let routing: Awaited<ReturnType<typeof startRouting>>;
let agent: Awaited<ReturnType<typeof client>>;
let base: string;
let recorder: Awaited<ReturnType<typeof recordTopics>>;

/** A customer on record with a verified address, and a claimed one. */
async function customerWithAddress(): Promise<{ customerId: string; address: string }> {
  const address = `${uniqueId('kim').toLowerCase()}@example.com`;
  const { customer } = await record.call<object, { customer: { customerId: string } }>('resolveCustomer', { identity: email(address), reason: REASON });
  return { customerId: customer.customerId, address };
}

function mail(conversationId: string, from: string, text: string, newConversation = true) {
  return ContactReceived.fromPartial({
    contactId: uniqueId('msg'),
    conversationId,
    channel: Channel.CHANNEL_EMAIL,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: new Date(),
    sender: email(from),
    newConversation,
    conversationReference: 'AB12CD',
    subject: 'Invoice',
    text,
    senderAuthentication: { verdict: SenderVerdict.SENDER_VERDICT_PASS, fromAligned: true },
  });
}

/** The notice's progress once the desk has written to every customer of it. */
function noticeFinished(session: DeskSession, noticeId: string, what: string) {
  return waitFor(
    async () => {
      const p = await deskCall(session, `/api/outreach/notice?noticeId=${noticeId}`);
      return p.body.finished ? p.body : undefined;
    },
    30_000,
    what,
  );
}

const offerOf = (conversationId: string) => agent.updates.find((u) => u.update?.$case === 'offer' && u.update.offer.conversationId === conversationId);

beforeAll(async () => {
  record = await startHarness();
  recorder = await recordTopics([topics.outbound.name]);
  routing = await startRouting(
    routingCtx,
    configFor(h.database('routing_outreach'), uniqueId('routing-outreach'), {
      CUSTOMER_RECORD_GRPC_ADDR: `127.0.0.1:${record.service.grpcPort}`,
      ROUTING_CUSTOMER_LOOKUP_TIMEOUT_MS: '10000',
    }),
  );
  const supervisor = await client(routing.grpcPort, supervisorId, 'supervisor');
  agent = await client(routing.grpcPort, agentId, 'agent');
  await supervisor.call(supervisor.raw.registerAgent, {
    agentId,
    name: 'Ana',
    tier: Tier.TIER_FRONT_OFFICE,
    skills: [
      { name: 'general', level: 3 },
      { name: 'billing', level: 3 },
    ],
    languages: ['en'],
    capacity: [{ channel: Channel.CHANNEL_EMAIL, capacity: 5, active: 0 }],
    totalCapacity: 5,
  });
  await agent.call(agent.raw.setPresence, { agentId: '', presence: Presence.PRESENCE_AVAILABLE });
  agent.watch();
  const mongo = await MongoClient.connect(MONGODB_URI);
  try {
    const roster = new StaffRoster(mongo.db(staffDb));
    await roster.upsert({ id: agentId, name: 'Ana', role: 'agent' }, PASSWORD);
    await roster.upsert({ id: supervisorId, name: 'Sue', role: 'supervisor' }, PASSWORD);
  } finally {
    await mongo.close();
  }
  const running = await startTestDesk(deskCtx, staffDb, { routing: routing.grpcPort, record: record.service.grpcPort }, { AGENT_DESK_NOTICE_PER_SECOND: '20' });
  base = `http://127.0.0.1:${running.port}`;
}, 180_000);

afterAll(async () => {
  agent?.close();
  await deskCtx.stop();
  await routingCtx.stop();
  await recorder?.close();
  await record?.stop();
  if (record) await dropDatabase(record.database);
  await dropDatabase(staffDb);
});

describe('writing first to a customer', () => {
  it('sends as the agent to a verified address, and brings the answer back to them in the queue they chose', { timeout: 120_000 }, async () => {
    const { address } = await customerWithAddress();
    // The agent's conversation with the customer: offered, accepted.
    const first = mail(uniqueId('conv'), address, 'My invoice is wrong');
    await deliver(h.kafka, first as never, () => routing.engine.conversationState(first.conversationId) !== undefined);
    await waitFor(() => offerOf(first.conversationId), 30_000, 'the offer');
    await agent.call(agent.raw.acceptOffer, { conversationId: first.conversationId });

    const ana = await deskSignIn(base, agentId);
    const claimed = await deskCall(ana, '/api/outreach/start', {
      fromConversationId: first.conversationId,
      channel: 'email',
      to: 'someone.else@example.com',
      text: 'Hello',
      requestId: uniqueId('req'),
    });
    expect(claimed).toMatchObject({ status: 400, body: { error: "to: this is not one of the customer's verified identities" } });

    const requestId = uniqueId('req');
    const send = () =>
      deskCall(ana, '/api/outreach/start', {
        fromConversationId: first.conversationId,
        channel: 'email',
        to: address.toUpperCase(),
        subject: 'Your corrected invoice',
        text: 'We corrected the invoice; the refund follows this week.',
        skill: 'billing',
        requestId,
      });
    // customer-record may not yet have projected the assignment: the read waits for it.
    const started = await send();
    expect(started).toMatchObject({ status: 200, body: { created: true } });
    const conversationId = started.body.conversationId as string;
    const out = await waitFor(
      () => recorder.values(topics.outbound).find((m) => m.conversationId === conversationId),
      20_000,
      'the first message on cc.outbound.v1',
    );
    expect(out).toMatchObject({ agentId, recipient: email(address), subject: 'Your corrected invoice', channel: Channel.CHANNEL_EMAIL });
    // The page sends the same request again (a lost answer): the same conversation, nothing sent twice.
    expect(await send()).toMatchObject({ status: 200, body: { conversationId, created: false } });

    await deliver(h.kafka, mail(conversationId, address, 'Thanks, and the other invoice?', false) as never, () =>
      Boolean(routing.engine.conversationState(conversationId)?.queue),
    );
    expect(routing.engine.conversationState(conversationId)).toMatchObject({ queue: 'tier1/billing/email', lastAgentId: agentId });
    await waitFor(() => offerOf(conversationId), 30_000, 'the answer offered to the agent who wrote');
    expect(recorder.values(topics.outbound).filter((m) => m.conversationId === conversationId && m.agentId === agentId)).toHaveLength(1);
  });

  it("sends a supervisor's notice once to each customer with a verified address, and says who was skipped", { timeout: 120_000 }, async () => {
    const customers = [await customerWithAddress(), await customerWithAddress()];
    const sue = await deskSignIn(base, supervisorId);
    const noticeId = uniqueId('outage');
    const notice = {
      noticeId,
      channel: 'email',
      customerIds: [...customers.map((c) => c.customerId), 'cust-nobody'],
      subject: 'Service outage',
      text: 'Our service is down; we will write when it is back.',
    };
    const agentSession = await deskSignIn(base, agentId);
    expect((await deskCall(agentSession, '/api/outreach/notice', notice)).status).toBe(403);
    expect((await deskCall(sue, '/api/outreach/notice', notice)).status).toBe(200);
    const done = await noticeFinished(sue, noticeId, 'the notice to finish');
    expect(done).toMatchObject({ total: 3, done: 3, counts: { started: 2, skipped: 1, failed: 0 } });
    const toThem = () => recorder.values(topics.outbound).filter((m) => customers.some((c) => m.recipient?.value === c.address));
    await waitFor(() => toThem().length === 2, 20_000, 'both mails');
    expect(toThem().every((m) => m.text === notice.text && m.agentId === supervisorId)).toBe(true);
    // Sent again: nobody is written to twice.
    await deskCall(sue, '/api/outreach/notice', notice);
    const again = await noticeFinished(sue, noticeId, 'the notice sent again');
    expect(again).toMatchObject({ counts: { started: 0, 'already-sent': 2, skipped: 1 } });
  });
});

describe('opening hours from the desk', () => {
  it("replace routing's calendars at once for a supervisor, refuse a set that does not parse whole, and refuse an agent", async () => {
    const sue = await deskSignIn(base, supervisorId);
    const hours = { 'tier1/*/sms': { zone: 'Europe/Paris', hours: { mon: ['09:00-18:00'] }, holidays: ['2026-12-25'] } };
    const saved = await deskCall(sue, '/api/calendars', { calendarsJson: JSON.stringify(hours) });
    expect(saved.status).toBe(200);
    expect(JSON.parse(saved.body.calendarsJson as string)).toMatchObject(hours);
    expect(routing.engine.calendars).toMatchObject(hours);
    const bad = await deskCall(sue, '/api/calendars', { calendarsJson: JSON.stringify({ 'tier1/*/sms': { zone: 'Mars/Olympus', hours: {} } }) });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toContain('Mars/Olympus');
    expect(routing.engine.calendars).toMatchObject(hours);
    expect(JSON.parse((await deskCall(sue, '/api/calendars')).body.calendarsJson as string)).toMatchObject(hours);
    expect((await deskCall(await deskSignIn(base, agentId), '/api/calendars', { calendarsJson: '{}' })).status).toBe(403);
    await deskCall(sue, '/api/calendars', { calendarsJson: '{}' });
  });
});
