// Who may read a customer, through the real gRPC API, store and broker: agents and experts only
// for conversations offered to or held by them, supervisors and ops with an audited reason,
// services by name, and no answer without its audit entry.
import { status } from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { IdentityKind, type GetCustomerContextResponse, type GetHistoryResponse, type ListAuditResponse } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { cuttableProxy, KAFKA_BROKERS, MONGODB_URI, storeAddress, testContext, uniqueId, waitFor } from '#libs/testing';
import { dropDatabase, offered, REASON, startHarness, step, tokenFor, type Harness, emailContact } from './harness';

const KAFKA_WAIT_MS = 45_000;
const email = () => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `${uniqueId('reader')}@example.com`, namespace: '' });
const contact = (sender = email()) => emailContact({ sender, subject: 'Parcel lost', text: 'Where is my parcel?' });

describe('who may read a customer', () => {
  let h: Harness;
  let kctx: ServiceContext;
  let kafka: ServiceKafka;
  let anaToken: string;
  let boToken: string;

  beforeAll(async () => {
    h = await startHarness({ env: { ACCESS_CATCH_UP_MS: '1500' } });
    kctx = testContext('customer-record-readers');
    kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
    [anaToken, boToken] = await Promise.all([tokenFor('ana', 'agent'), tokenFor('bo', 'agent')]);
  });
  afterAll(async () => {
    await kctx.stop();
    await h.stop();
    await dropDatabase(h.database);
  });

  const contextAs = (token: string, customerId: string, conversationId: string) =>
    h.call<object, GetCustomerContextResponse>('getCustomerContext', { customerId, conversationId }, 'agent', token);
  /** A conversation projected directly (no broker wait); returns its customer id. */
  const conversation = async (c = contact()) => {
    await h.service.projection.onContact(c);
    return { c, customerId: (await h.service.store.findConversation(c.conversationId))!.customerId };
  };

  it('refuses agent A the customer of a conversation offered to agent B, and lets A read once routing offers it to A', { timeout: 120_000 }, async () => {
    const c = contact();
    await kafka.producer.publish(topics.contactInbound, c.conversationId, c);
    const offerToBo = offered(c.conversationId, 'bo');
    await kafka.producer.publish(topics.conversationEvents, c.conversationId, offerToBo, { id: offerToBo.eventId });
    const customerId = await waitFor(
      () =>
        contextAs(boToken, '', c.conversationId).then(
          (r) => r.customer?.customerId,
          () => undefined,
        ),
      KAFKA_WAIT_MS,
      'the offer to bo to be projected from the topic',
    );
    await expect(contextAs(anaToken, customerId!, c.conversationId)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: `conversation ${c.conversationId} was not offered to or held by ana`,
    });
    await expect(h.call('getHistory', { customerId, conversationId: c.conversationId }, 'agent', anaToken)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    // bo declines; routing offers it to ana.
    const toAna = offered(c.conversationId, 'ana');
    await kafka.producer.publish(
      topics.conversationEvents,
      c.conversationId,
      step(c.conversationId, { $case: 'offerDeclined', offerDeclined: { agentId: 'bo', timedOut: false } }),
    );
    await kafka.producer.publish(topics.conversationEvents, c.conversationId, toAna, { id: toAna.eventId });
    const ctx = await waitFor(() => contextAs(anaToken, customerId!, c.conversationId).catch(() => undefined), KAFKA_WAIT_MS, 'the offer to ana');
    expect(ctx.customer).toMatchObject({ customerId, identities: [expect.objectContaining({ value: c.sender!.value })] });
    const history = await h.call<object, GetHistoryResponse>('getHistory', { customerId, conversationId: c.conversationId }, 'agent', anaToken);
    expect(history.entries.map((e) => e.text)).toContain('Where is my parcel?');
  });

  it('waits a moment for an offer the desk saw before customer-record projected it, instead of refusing', async () => {
    const { c, customerId } = await conversation();
    const started = Date.now();
    const reading = contextAs(anaToken, customerId, c.conversationId);
    await new Promise((r) => setTimeout(r, 400));
    await h.service.access.onConversationEvent(offered(c.conversationId, 'ana'));
    const ctx = await reading;
    expect(ctx.customer!.customerId).toBe(customerId);
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    // Never offered: refused once the wait (1.5 s here) is over, not sooner, not forever.
    const refusedAt = Date.now();
    await expect(contextAs(boToken, customerId, c.conversationId)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    expect(Date.now() - refusedAt).toBeLessThan(5000);
  });

  it('refuses a conversation id of a different customer, and a conversation no longer theirs', async () => {
    const mine = await conversation();
    const other = await conversation();
    await h.service.access.onConversationEvent(offered(mine.c.conversationId, 'ana'));
    await expect(contextAs(anaToken, other.customerId, mine.c.conversationId)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: `the customer asked for is not the customer of conversation ${mine.c.conversationId}`,
    });
    await expect(h.call('getCustomerContext', { identity: other.c.sender, conversationId: mine.c.conversationId }, 'agent', anaToken)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
    await expect(h.call('getCustomer', { customerId: other.customerId }, 'agent', anaToken)).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringMatching(/conversation_id is required/),
    });
    // Resolved nine hours ago: outside the eight-hour window.
    const old = await conversation();
    const nineHoursAgo = new Date(Date.now() - 9 * 3_600_000);
    await h.service.access.onConversationEvent(offered(old.c.conversationId, 'ana', nineHoursAgo));
    await h.service.access.onConversationEvent(
      step(old.c.conversationId, { $case: 'resolved', resolved: { agentId: 'ana', disposition: 'done' } }, nineHoursAgo),
    );
    await expect(contextAs(anaToken, old.customerId, old.c.conversationId)).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: expect.stringMatching(/more than 8 h ago/),
    });
  });

  it('refuses a supervisor without a reason; with one the read is allowed and the reason is in the audit log', async () => {
    const { customerId } = await conversation();
    await expect(h.call('getCustomerContext', { customerId }, 'supervisor')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: 'reason is required: a supervisor or ops reading a customer says why, and the reason is audited',
    });
    await expect(h.call('getHistory', { customerId, reason: ' ' }, 'supervisor')).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
    const ctx = await h.call<object, GetCustomerContextResponse>(
      'getCustomerContext',
      { customerId, reason: 'complaint escalated to me by phone' },
      'supervisor',
    );
    expect(ctx.customer!.customerId).toBe(customerId);
    const audit = await h.call<object, ListAuditResponse>('listAudit', { customerId }, 'supervisor');
    expect(audit.entries.map((e) => [e.actorId, e.action, e.reason])).toEqual([['supervisor-1', 'GetCustomerContext', 'complaint escalated to me by phone']]);
  });

  it("lists a call's recording: its link for the supervisor, only that there is one for ops", { timeout: 90_000 }, async () => {
    const { c, customerId } = await conversation();
    const url = `https://api.twilio.com/2010-04-01/Accounts/AC1/Recordings/${uniqueId('RE')}`;
    const recorded = step(c.conversationId, { $case: 'callRecorded', callRecorded: { recordingSid: 'RE1', url, durationMs: 37_000, callSid: 'CA1' } });
    await kafka.producer.publish(topics.conversationEvents, c.conversationId, recorded, { id: recorded.eventId });
    const entryOf = (r: GetHistoryResponse) => r.entries.find((e) => e.entryId === `event:${recorded.eventId}`);
    const read = (role: 'supervisor' | 'ops') =>
      h.call<object, GetHistoryResponse>('getHistory', { customerId, conversationId: c.conversationId, reason: REASON }, role);
    const supervisor = await waitFor(async () => entryOf(await read('supervisor')), KAFKA_WAIT_MS, 'the recording entry');
    expect(supervisor).toMatchObject({ text: `Call recording (37 s, RE1): ${url}`, detail: 'call recorded (37 s)' });
    expect(entryOf(await read('ops'))).toMatchObject({ text: '', detail: 'call recorded (37 s)' });
  });

  it('lets routing read the context it routes with, and no other service or call', async () => {
    const { c, customerId } = await conversation();
    const routed = await h.call<object, GetCustomerContextResponse>(
      'getCustomerContext',
      { identity: c.sender, conversationId: c.conversationId, recentConversations: 1 },
      'service',
    );
    expect(routed.customer!.customerId).toBe(customerId);
    expect(routed.recentConversations[0]!.subject).toBe('');
    await expect(h.call('getHistory', { customerId }, 'service')).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
      details: 'service routing is not granted GetHistory',
    });
    await expect(h.call('getCustomerContext', { customerId }, 'service', await tokenFor('sms-voice', 'service'))).rejects.toMatchObject({
      code: status.PERMISSION_DENIED,
    });
  });
});

describe('a read whose audit entry cannot be written', () => {
  it('is refused with UNAVAILABLE while the audit store is unreachable, and answered again after', { timeout: 60_000 }, async () => {
    const store = storeAddress();
    const proxy = await cuttableProxy(store.host, store.port);
    const database = uniqueId('cr_audit').replace(/-/g, '_');
    const auditClient = await new MongoClient(`mongodb://127.0.0.1:${proxy.port}`, { serverSelectionTimeoutMS: 1000 }).connect();
    const h = await startHarness({ database, auditDb: auditClient.db(database), env: { AUDIT_WRITE_TIMEOUT_MS: '1500' } });
    try {
      const c = contact();
      await h.service.projection.onContact(c);
      const customerId = (await h.service.store.findConversation(c.conversationId))!.customerId;
      const read = () => h.call<object, GetCustomerContextResponse>('getCustomerContext', { customerId, reason: REASON }, 'supervisor');
      await read();
      proxy.cut();
      await expect(read()).rejects.toMatchObject({ code: status.UNAVAILABLE, details: expect.stringMatching(/audit log cannot be written/) });
      await expect(h.call('getHistory', { customerId, reason: REASON }, 'supervisor')).rejects.toMatchObject({ code: status.UNAVAILABLE });
      proxy.restore();
      await waitFor(
        () =>
          read().then(
            () => true,
            () => false,
          ),
        20_000,
        'reads to be answered again',
      );
      const direct = await new MongoClient(MONGODB_URI).connect();
      try {
        expect(await direct.db(database).collection('audit').countDocuments({ customerId, action: 'GetCustomerContext' })).toBeGreaterThanOrEqual(2);
      } finally {
        await direct.close();
      }
    } finally {
      proxy.restore();
      await h.stop();
      await auditClient.close();
      await proxy.close();
      await dropDatabase(database);
    }
  });
});
