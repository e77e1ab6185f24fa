// The read endpoints against a real customer-record: a contact submitted over the API becomes a
// customer there, read back with a reason, audited in both services; queue figures paged by cursor.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueStats, Tier } from '#libs/proto';
import { uniqueId, waitFor } from '#libs/testing';
import { startHarness, type Harness } from '../../customer-record/test/harness';
import { grpcBackends, type Backends } from '../src/backends';
import { contactBody, json, startApiHarness, type ApiHarness } from './harness';
import { testAuthEnv } from '#libs/testing';
import { readSigningKey } from '#libs/auth';

const QUEUES = ['tier1/general/chat', 'tier1/billing/email', 'tier2/general/api'].map((queue) =>
  QueueStats.fromPartial({ queue, tier: queue.startsWith('tier2') ? Tier.TIER_EXPERT : Tier.TIER_FRONT_OFFICE, waiting: 2 }),
);

describe('GET /v1/customers/{customerId} and /v1/queues', () => {
  let record: Harness;
  let api: ApiHarness;
  let backends: Backends;

  beforeAll(async () => {
    record = await startHarness({ env: { PROJECTION_FROM_BEGINNING: 'false' } });
    const signer = readSigningKey(testAuthEnv('integration-api').AUTH_PRIVATE_KEY_FILE!, 'integration-api');
    const real = grpcBackends({ customerRecord: `127.0.0.1:${record.service.grpcPort}`, signer, timeoutMs: 3000 });
    // Routing's figures come from a stand-in here; the call itself is routing's (see the reflection and e2e tests).
    backends = { ...real, queueStats: async () => QUEUES };
    api = await startApiHarness({ backends });
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
    await record?.stop();
  });

  it('reads the customer of an API contact with a reason, audited here and in customer-record, without message texts', async () => {
    const writer = await api.key(['contacts:write']);
    const reader = await api.key(['customers:read'], 10_000, 'crm');
    const customerRef = uniqueId('cust');
    const submitted = (await (
      await api.call('/v1/contacts', { ...json({ ...contactBody(uniqueId('thread')), customer: { id: customerRef, name: 'Kim' } }), key: writer.key })
    ).json()) as { conversationId: string };
    const customerId = await waitFor(
      async () => (await record.service.store.conversationLog.findConversation(submitted.conversationId))?.customerId,
      20_000,
      'the contact in customer-record',
    );
    expect((await api.call(`/v1/customers/${customerId}`, { key: reader.key })).status).toBe(400); // no reason
    expect((await api.call(`/v1/customers/${customerId}?reason=x`, { key: writer.key })).status).toBe(403);
    const res = await api.call(`/v1/customers/${customerId}?reason=${encodeURIComponent('order follow-up')}&limit=1`, { key: reader.key });
    expect(res.status).toBe(200);
    const body = (await res.json()) as {
      customer: { id: string; displayName: string; identities: unknown[] };
      history: { entries: { channel: string; detail: string }[] };
    };
    expect(body.customer).toMatchObject({ id: customerId, displayName: 'Kim', identities: [{ kind: 'other', value: customerRef, namespace: 'api.shop' }] });
    expect(body.history.entries[0]).toMatchObject({ channel: 'api' });
    expect(JSON.stringify(body)).not.toContain('Where is my parcel?');
    const ours = await api.keys.keys.db.collection('api_audit').findOne({ keyId: reader.id, status: 200 });
    expect(ours).toMatchObject({ route: '/v1/customers/{customerId}', customerId, reason: 'order follow-up' });
    const theirs = await record.service.store.audit.findOne({ customerId, actorId: 'integration-api' });
    expect(theirs?.reason).toBe(`API key ${reader.id} (crm): order follow-up`);
    const unknown = await api.call('/v1/customers/cust-nobody?reason=checking%20a%20ticket', { key: reader.key });
    expect(unknown.status).toBe(404);
    expect(unknown.headers.get('content-type')).toBe('application/problem+json');
  }, 60_000);

  it('pages the queues by cursor', async () => {
    const reader = await api.key(['queues:read']);
    const first = (await (await api.call('/v1/queues?limit=2', { key: reader.key })).json()) as { queues: { queue: string }[]; nextCursor: string };
    expect(first.queues.map((q) => q.queue)).toEqual(['tier1/billing/email', 'tier1/general/chat']);
    const second = (await (await api.call(`/v1/queues?limit=2&cursor=${first.nextCursor}`, { key: reader.key })).json()) as {
      queues: { queue: string; channel: string; tier: string }[];
      nextCursor: null;
    };
    expect(second).toEqual({ queues: [expect.objectContaining({ queue: 'tier2/general/api', channel: 'unknown', tier: 'expert' })], nextCursor: null });
    expect((await api.call('/v1/queues?limit=0', { key: reader.key })).status).toBe(400);
  });
});
