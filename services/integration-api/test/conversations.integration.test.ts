// The conversation routes as an integrator uses them, against the real broker and store with a
// real routing and customer-record behind the API: a thread submitted over the API channel is
// listed and read, answered, noted, transferred and resolved; another application's key is
// refused what is not its own; the company writes first only to a verified identity.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, IdentityKind, OutboundKind, OutboundMessage, ConversationEvent } from '#libs/proto';
import { recordTopics, uniqueId, waitFor } from '#libs/testing';
import { startConversationHarness, type ConversationHarness } from './conversation-harness';
import { json, type ApiHarness } from './harness';

type Conversation = { id: string; state: string; queue: string | null; customerId: string | null; application: string | null; agentId: string | null };

describe('/v1/conversations with routing and customer-record behind the API', () => {
  let h: ConversationHarness;
  let api: ApiHarness;
  let recorder: Awaited<ReturnType<typeof recordTopics>>;
  let shop: { id: string; key: string };
  let crm: { id: string; key: string };

  beforeAll(async () => {
    recorder = await recordTopics([topics.outbound.name, topics.conversationEvents.name]);
    h = await startConversationHarness({ env: { INTEGRATION_API_STARTS_PER_HOUR: '2' } });
    api = h.api;
    shop = await api.key(['contacts:write', 'conversations:read', 'conversations:write', 'conversations:manage', 'conversations:start'], 10_000, 'shop');
    crm = await api.key(['conversations:read', 'conversations:write'], 10_000, 'crm');
  }, 90_000);
  afterAll(async () => {
    await recorder?.close();
    await h?.stop();
  });

  const ours = (r: { headers: Record<string, string> }) => (r.headers.ce_source ?? '').endsWith(`/${h.routingInstance}`);
  const get = async <T>(path: string, key = shop.key) => {
    const res = await api.call(path, { key });
    return { status: res.status, body: (await res.json()) as T, type: res.headers.get('content-type') };
  };
  const post = async <T>(path: string, body: unknown, key = shop.key, headers: Record<string, string> = {}) => {
    const init = json(body);
    const res = await api.call(path, { ...init, headers: { ...(init.headers as Record<string, string>), ...headers }, key });
    return { status: res.status, body: (await res.json()) as T };
  };

  /** Submits contacts on a thread (a new routing group may start past the first) until routing holds its conversation. */
  async function openThread(customerRef: string, email?: string): Promise<Conversation> {
    const threadId = uniqueId('thread');
    let conversationId = '';
    return waitFor(
      async () => {
        // Each try is the same contact: a copy routing reads after the test resolved the
        // conversation would otherwise reopen it.
        const sent = await post<{ conversationId: string }>(
          '/v1/contacts',
          { threadId, customer: { id: customerRef, name: 'Kim', ...(email ? { email } : {}) }, subject: 'Order 1234', text: 'Where is my parcel?' },
          shop.key,
          { 'idempotency-key': `open-${threadId}` },
        );
        conversationId = sent.body.conversationId;
        const read = await get<Conversation>(`/v1/conversations/${conversationId}`);
        return read.status === 200 && read.body;
      },
      45_000,
      'routing to hold the API conversation',
    );
  }

  it('lists and reads an API conversation, with its steps and without texts; an unknown one is 404', async () => {
    const customerRef = uniqueId('cust');
    // The first thread makes the customer on customer-record; the second is routed with it known.
    const first = await openThread(customerRef);
    await waitFor(async () => (await h.record.service.store.conversationLog.findConversation(first.id))?.customerId, 20_000, 'the customer');
    const conv = await openThread(customerRef);
    expect(conv).toMatchObject({
      state: expect.stringMatching(/^(queued|offered)$/),
      application: 'shop',
      queue: 'tier1/general/api',
      customerId: expect.any(String),
    });
    const later = await openThread(customerRef);

    type Page = { conversations: Conversation[]; nextCursor: string | null };
    // One a page, newest first, until the last page says so (the first thread is there too once routing knew its customer).
    const seen: string[] = [];
    let cursor = '';
    do {
      const page = await get<Page>(`/v1/conversations?channel=api&customerId=${conv.customerId}&limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(page.status).toBe(200);
      expect(page.body.conversations).toHaveLength(1);
      seen.push(page.body.conversations[0]!.id);
      cursor = page.body.nextCursor ?? '';
    } while (cursor && seen.length < 5);
    expect(seen.slice(0, 2)).toEqual([later.id, conv.id]);
    expect(new Set(seen).size).toBe(seen.length);
    expect((await get(`/v1/conversations?state=resolved&customerId=${conv.customerId}`)).body).toEqual({ conversations: [], nextCursor: null });
    expect((await get('/v1/conversations?state=closed')).status).toBe(400);

    const detail = await waitFor(
      async () => {
        const d = await get<Conversation & { steps: { kind: string }[] }>(`/v1/conversations/${conv.id}`, crm.key);
        return d.body.steps?.some((s) => s.kind === 'queued') && d.body.steps.some((s) => s.kind === 'message-in') && d;
      },
      20_000,
      'the steps in customer-record',
    );
    expect(detail.status).toBe(200);
    expect(JSON.stringify(detail.body)).not.toContain('Where is my parcel?');
    expect(JSON.stringify(detail.body)).not.toContain('Order 1234');
    const audit = await api.keys.keys.db.collection('api_audit').findOne({ keyId: crm.id, route: '/v1/conversations/{conversationId}', status: 200 });
    expect(audit).toMatchObject({ conversationId: conv.id, customerId: conv.customerId });

    // Texts only with a reason and the scope for them, audited in both services.
    expect((await get(`/v1/conversations/${conv.id}?reason=${encodeURIComponent('order follow-up')}`, crm.key)).status).toBe(403);
    const texts = await api.key(['conversations:read', 'conversations:read-texts'], 10_000, 'crm');
    const withTexts = await get<{ steps: { kind: string; text: string | null; subject: string | null }[] }>(
      `/v1/conversations/${conv.id}?reason=${encodeURIComponent('order follow-up')}`,
      texts.key,
    );
    expect(withTexts.status).toBe(200);
    expect(withTexts.body.steps.find((s) => s.kind === 'message-in')).toMatchObject({ text: 'Where is my parcel?', subject: 'Order 1234' });
    expect(detail.body.steps.every((s) => (s as { text?: unknown }).text === null)).toBe(true);
    expect(await api.keys.keys.db.collection('api_audit').findOne({ keyId: texts.id, status: 200 })).toMatchObject({ reason: 'order follow-up' });
    const theirs = await h.record.service.store.audit.findOne({ customerId: conv.customerId!, reason: `API key ${texts.id} (crm): order follow-up` });
    expect(theirs).toMatchObject({ actorId: 'integration-api' });
    expect((await get(`/v1/conversations/${conv.id}?reason=x`, texts.key)).status).toBe(400);
    const unknown = await get(`/v1/conversations/conv-nobody`);
    expect(unknown).toMatchObject({ status: 404, type: 'application/problem+json' });
    expect((await get('/v1/conversations', (await api.key(['contacts:write'])).key)).status).toBe(403);
  }, 120_000);

  it("replies on its own conversation once per Idempotency-Key; another application's key is refused, but may note it", async () => {
    const conv = await openThread(uniqueId('cust'));
    const path = `/v1/conversations/${conv.id}/messages`;
    const sent = await post<{ messageId: string }>(path, { text: 'It left the warehouse today.' }, shop.key, { 'idempotency-key': 'reply-1' });
    expect(sent.status).toBe(202);
    const out = await recorder.waitFor((r) => r.topic === topics.outbound.name && r.headers.ce_id === sent.body.messageId && ours(r), 20_000);
    expect(OutboundMessage.decode(out.message.value!)).toMatchObject({
      conversationId: conv.id,
      channel: Channel.CHANNEL_API,
      kind: OutboundKind.OUTBOUND_KIND_REPLY,
      agentId: 'api:shop',
      text: 'It left the warehouse today.',
    });
    const retry = await post<{ messageId: string }>(path, { text: 'It left the warehouse today.' }, shop.key, { 'idempotency-key': 'reply-1' });
    expect(retry).toEqual({ status: 202, body: sent.body });
    expect((await post(path, { text: 'Something else.' }, shop.key, { 'idempotency-key': 'reply-1' })).status).toBe(409);
    await new Promise((r) => setTimeout(r, 500));
    expect(recorder.records.filter((r) => r.topic === topics.outbound.name && r.headers.ce_id === sent.body.messageId && ours(r))).toHaveLength(1);

    const refused = await post<{ type: string }>(path, { text: 'Hello from the CRM.' }, crm.key);
    expect(refused).toMatchObject({ status: 403, body: { type: '/problems/not-permitted' } });
    const note = await post<{ noteId: string }>(`/v1/conversations/${conv.id}/notes`, { text: 'Customer phoned the shop as well.' }, crm.key);
    expect(note.status).toBe(201);
    const noted = await recorder.waitFor((r) => r.topic === topics.conversationEvents.name && r.headers.ce_id === note.body.noteId && ours(r), 20_000);
    expect(ConversationEvent.decode(noted.message.value!).step).toEqual({
      $case: 'noteAdded',
      noteAdded: { author: 'api:crm', text: 'Customer phoned the shop as well.' },
    });
    expect(recorder.records.some((r) => r.topic === topics.outbound.name && r.message.value?.includes('Customer phoned the shop'))).toBe(false);
    expect((await post(`/v1/conversations/${conv.id}/notes`, { text: ' ' }, crm.key)).status).toBe(400);
    expect((await post('/v1/conversations/conv-nobody/notes', { text: 'x' }, crm.key)).status).toBe(404);
  }, 120_000);

  it('transfers and resolves its own conversation with conversations:manage; then it is resolved (409 again)', async () => {
    const conv = await openThread(uniqueId('cust'));
    const base = `/v1/conversations/${conv.id}`;
    expect((await post(`${base}/resolve`, {}, crm.key)).status).toBe(403); // no manage scope
    expect((await post(`${base}/transfer`, { toQueue: 'tier1/billing/api', toAgentId: 'a1' })).status).toBe(400);
    expect((await post(`${base}/transfer`, { toAgentId: 'nobody-here' })).status).toBe(404);
    expect((await post(`${base}/transfer`, { toQueue: 'tier1/billing/email' })).status).toBe(400);
    const moved = await post<Conversation>(`${base}/transfer`, { toQueue: 'tier2/billing/api', note: 'Refund question' });
    expect(moved).toMatchObject({ status: 200, body: { state: 'queued', queue: 'tier2/billing/api' } });
    const resolved = await post<Conversation>(`${base}/resolve`, { disposition: 'answered in the shop' });
    expect(resolved).toMatchObject({ status: 200, body: { id: conv.id, state: 'resolved' } });
    expect(await post(`${base}/resolve`, {})).toMatchObject({ status: 409, body: { type: '/problems/conflict' } });
    expect((await post(`${base}/messages`, { text: 'Anything else?' })).status).toBe(409);
    // Ended conversations are listed from customer-record's record, which the events reach a moment later.
    await waitFor(
      async () =>
        (await get<{ conversations: Conversation[] }>(`/v1/conversations?state=resolved&channel=api&limit=200`)).body.conversations.some(
          (c) => c.id === conv.id,
        ),
      20_000,
      'the resolved conversation listed',
    );
  }, 120_000);

  it('starts a conversation only to a verified identity, answered once Kafka has its first message; at most the rate per key', async () => {
    const email = `${uniqueId('kim')}@example.org`;
    const { customer } = await h.record.call<unknown, { customer: { customerId: string } }>('resolveCustomer', {
      identity: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: email, namespace: '' },
      displayName: 'Kim',
      reason: 'set up for a company-initiated conversation',
    });
    const body = { channel: 'email', customerId: customer.customerId, to: email, subject: 'Your order is ready', text: 'Collect it from tomorrow.' };
    const started = await post<{ conversation: Conversation & { companyInitiated: boolean }; messageId: string; created: boolean }>(
      '/v1/conversations',
      body,
      shop.key,
      {
        'idempotency-key': 'start-1',
      },
    );
    expect(started.status).toBe(202);
    expect(started.body).toMatchObject({
      created: true,
      conversation: { state: 'awaiting-customer', companyInitiated: true, application: 'shop', customerId: customer.customerId },
    });
    // 202 came after the commit: the message is on the topic already (or arrives with the recorder's next fetch).
    const out = await recorder.waitFor((r) => r.topic === topics.outbound.name && r.headers.ce_id === started.body.messageId && ours(r), 10_000);
    expect(OutboundMessage.decode(out.message.value!)).toMatchObject({
      channel: Channel.CHANNEL_EMAIL,
      recipient: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: email },
      subject: 'Your order is ready',
      agentId: 'api:shop',
    });
    const retry = await post<{ created: boolean; messageId: string }>('/v1/conversations', body, shop.key, { 'idempotency-key': 'start-1' });
    expect(retry).toMatchObject({ status: 202, body: { created: false, messageId: started.body.messageId } });
    expect((await post('/v1/conversations', { ...body, text: 'Other words.' }, shop.key, { 'idempotency-key': 'start-1' })).status).toBe(409);

    const claimedBy = await openThread(uniqueId('cust'), `${uniqueId('claimed')}@example.org`);
    const claimant = await waitFor(
      async () => (await h.record.service.store.conversationLog.findConversation(claimedBy.id))?.customerId,
      20_000,
      'the customer',
    );
    const claimedEmail = (
      await h.record.call<unknown, { customer: { claimedIdentities: { value: string }[] } }>('getCustomer', { customerId: claimant, reason: 'test' })
    ).customer.claimedIdentities[0]!.value;
    const toClaim = await post<{ type: string }>('/v1/conversations', { ...body, customerId: claimant, to: claimedEmail });
    expect(toClaim).toMatchObject({ status: 422, body: { type: '/problems/recipient-not-verified' } });
    expect((await post('/v1/conversations', { ...body, to: 'someone.else@example.org' })).status).toBe(422);
    expect((await post('/v1/conversations', { ...body, channel: 'chat' })).status).toBe(400);
    expect((await post('/v1/conversations', { ...body, customerId: 'cust-nobody' })).status).toBe(404);
    expect((await post('/v1/conversations', body, crm.key)).status).toBe(403);
    // The rate is 2 an hour here, and a retry with the same Idempotency-Key is not counted again.
    expect((await post('/v1/conversations', body)).status).toBe(202);
    const limited = await api.call('/v1/conversations', { ...json(body), key: shop.key });
    expect(limited.status).toBe(429);
    expect(limited.headers.get('retry-after')).toMatch(/^\d+$/);
  }, 120_000);

  // Last: it stops this file's routing.
  it('lists and reads a resolved conversation from the record when routing no longer holds it', async () => {
    const conv = await openThread(uniqueId('cust'));
    expect((await post(`/v1/conversations/${conv.id}/resolve`, {})).status).toBe(200);
    const resolvedListed = async () =>
      (await get<{ conversations: Conversation[] }>(`/v1/conversations?state=resolved&channel=api&limit=200`)).body.conversations.find((c) => c.id === conv.id);
    await waitFor(resolvedListed, 20_000, 'the resolved conversation in the record');
    await h.stopRouting();
    expect((await get('/v1/conversations?state=open')).status).toBe(503);
    expect(await resolvedListed()).toMatchObject({ state: 'resolved', queue: 'tier1/general/api', reference: null, sla: null });
    const all = await get<{ conversations: Conversation[] }>(`/v1/conversations?state=all&channel=api&limit=200`);
    expect(all.body.conversations.map((c) => c.id)).toContain(conv.id);
    const read = await get<Conversation & { steps: { kind: string }[] }>(`/v1/conversations/${conv.id}`);
    expect(read).toMatchObject({ status: 200, body: { id: conv.id, state: 'resolved', application: null, sla: null } });
    // Routing is gone: a conversation the record has not ended is routing's to answer, and it cannot.
    expect((await get('/v1/conversations/conv-nobody-anywhere')).status).toBe(503);
    expect((await get(`/v1/conversations?state=resolved&cursor=${Buffer.from('[1]').toString('base64url')}`)).status).toBe(404);
  }, 120_000);
});
