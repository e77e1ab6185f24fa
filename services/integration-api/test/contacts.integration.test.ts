// The API channel as an integrator meets it, over real HTTP, Kafka and the store.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ContactReceived, IdentityKind } from '#libs/proto';
import { cuttableSocketFactory, recordTopics, uniqueId } from '#libs/testing';
import { contactBody, json, startApiHarness, type ApiHarness } from './harness';

type Recorder = Awaited<ReturnType<typeof recordTopics>>;

describe('POST /v1/contacts', () => {
  let api: ApiHarness;
  let recorder: Recorder;
  const network = cuttableSocketFactory();
  let writer: { id: string; key: string };

  beforeAll(async () => {
    recorder = await recordTopics([topics.contactInbound.name]);
    api = await startApiHarness({ socketFactory: network.socketFactory, env: { PUBLISH_TIMEOUT_MS: '1500' } });
    writer = await api.key(['contacts:write']);
  }, 60_000);
  afterAll(async () => {
    await api?.stop();
    await recorder?.close();
  });

  const recordsOf = (contactId: string) => recorder.records.filter((r) => r.headers.ce_id === contactId);

  it('answers 202 once the contact is on cc.contact.inbound.v1, as a ContactReceived of the API channel', async () => {
    const threadId = uniqueId('thread');
    const res = await api.call('/v1/contacts', {
      ...json(contactBody(threadId)),
      key: writer.key,
      headers: { 'content-type': 'application/json', 'idempotency-key': uniqueId('idem') },
    });
    expect(res.status).toBe(202);
    const answer = (await res.json()) as { contactId: string; conversationId: string; newConversation: boolean; conversationReference: string };
    expect(answer).toMatchObject({ newConversation: true, conversationReference: expect.stringMatching(/^[A-HJ-NP-Z2-9]{6}$/) });
    const record = await recorder.waitFor((r) => r.headers.ce_id === answer.contactId, 10_000);
    expect(record.message.key?.toString()).toBe(answer.conversationId);
    expect(record.headers.ce_type).toBe('contactcenter.v1.ContactReceived');
    const contact = ContactReceived.decode(record.message.value!);
    expect(contact).toMatchObject({
      contactId: answer.contactId,
      conversationId: answer.conversationId,
      channel: Channel.CHANNEL_API,
      newConversation: true,
      text: 'Where is my parcel?',
      sender: { kind: IdentityKind.IDENTITY_KIND_OTHER, value: 'cust-42', namespace: 'api.shop' },
    });
    // What the caller says of the customer is a claim, never the sender.
    expect(contact.claimedIdentities).toEqual([{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'kim@example.org', namespace: '' }]);
  });

  it('takes a retry with the same Idempotency-Key as the same contact, once; another body with it is 409', async () => {
    const threadId = uniqueId('thread');
    const init = { ...json(contactBody(threadId)), key: writer.key, headers: { 'content-type': 'application/json', 'idempotency-key': 'order-1234-msg-1' } };
    const first = (await (await api.call('/v1/contacts', init)).json()) as { contactId: string; conversationId: string };
    const again = await api.call('/v1/contacts', init);
    expect(again.status).toBe(202);
    expect(await again.json()).toEqual(first);
    await recorder.waitFor((r) => r.headers.ce_id === first.contactId, 10_000);
    // Give a second record time to arrive if one were written.
    await new Promise((r) => setTimeout(r, 500));
    expect(recordsOf(first.contactId)).toHaveLength(1);
    const other = await api.call('/v1/contacts', { ...init, body: JSON.stringify(contactBody(threadId, 'something else')) });
    expect(other.status).toBe(409);
    expect(other.headers.get('content-type')).toBe('application/problem+json');
    expect(await other.json()).toMatchObject({ type: '/problems/idempotency-key-reused', status: 409 });
  });

  it('puts every contact of one threadId into one conversation, and another thread into another', async () => {
    const threadId = uniqueId('thread');
    const send = async (thread: string, text: string) =>
      (await (await api.call('/v1/contacts', { ...json(contactBody(thread, text)), key: writer.key })).json()) as {
        conversationId: string;
        newConversation: boolean;
      };
    const [a, b] = await Promise.all([send(threadId, 'first'), send(threadId, 'second')]);
    expect(a.conversationId).toBe(b.conversationId);
    expect([a.newConversation, b.newConversation].filter(Boolean)).toHaveLength(1);
    const c = await send(threadId, 'third');
    expect(c).toMatchObject({ conversationId: a.conversationId, newConversation: false });
    expect((await send(uniqueId('thread'), 'elsewhere')).conversationId).not.toBe(a.conversationId);
  });

  it('carries onBehalfOf as whom the application acts for; more than one of its fields is a 400', async () => {
    const res = await api.call('/v1/contacts', { ...json({ ...contactBody(uniqueId('thread')), onBehalfOf: { email: 'Lee@Example.org' } }), key: writer.key });
    expect(res.status).toBe(202);
    const { contactId } = (await res.json()) as { contactId: string };
    const contact = ContactReceived.decode((await recorder.waitFor((r) => r.headers.ce_id === contactId, 10_000)).message.value!);
    expect(contact.onBehalfOf).toEqual({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: 'lee@example.org', namespace: '' });
    const both = await api.call('/v1/contacts', {
      ...json({ ...contactBody(uniqueId('thread')), onBehalfOf: { email: 'lee@example.org', phone: '+15005550006' } }),
      key: writer.key,
    });
    expect(both.status).toBe(400);
    expect(((await both.json()) as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(['onBehalfOf']);
  });

  it('answers a bad body with a 400 problem naming the fields', async () => {
    const res = await api.call('/v1/contacts', { ...json({ threadId: 'a b', customer: {}, text: '' }), key: writer.key });
    expect(res.status).toBe(400);
    expect(res.headers.get('content-type')).toBe('application/problem+json');
    const problem = (await res.json()) as { type: string; errors: { field: string }[] };
    expect(problem.type).toBe('/problems/invalid-request');
    expect(problem.errors.map((e) => e.field)).toEqual(expect.arrayContaining(['threadId', 'customer.id', 'text']));
    const big = await api.call('/v1/contacts', { ...json(contactBody('t', 'x'.repeat(70_000))), key: writer.key });
    expect(big.status).toBe(413);
    const notJson = await api.call('/v1/contacts', { method: 'POST', body: 'hello', key: writer.key });
    expect(notJson.status).toBe(415);
  });

  it('answers 503 with Retry-After while Kafka does not acknowledge, and the retry goes through as the same contact', async () => {
    const init = {
      ...json(contactBody(uniqueId('thread'))),
      key: writer.key,
      headers: { 'content-type': 'application/json', 'idempotency-key': uniqueId('idem') },
    };
    network.cut();
    let refused: Response;
    try {
      refused = await api.call('/v1/contacts', init);
    } finally {
      network.restore();
    }
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toMatch(/^\d+$/);
    expect(await refused.json()).toMatchObject({ type: '/problems/unavailable', status: 503 });
    let accepted: Response | undefined;
    for (let i = 0; i < 20 && accepted?.status !== 202; i++) accepted = await api.call('/v1/contacts', init);
    expect(accepted!.status).toBe(202);
    const { contactId } = (await accepted!.json()) as { contactId: string };
    await recorder.waitFor((r) => r.headers.ce_id === contactId, 15_000);
    // The refused write may land too, with the same ce_id: consumers keep one.
    expect(new Set(recordsOf(contactId).map((r) => r.headers.ce_id))).toEqual(new Set([contactId]));
  }, 60_000);
});

describe('API keys', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApiHarness({ env: { INTEGRATION_API_BAD_KEYS_PER_MINUTE: '1000' } });
  }, 60_000);
  afterAll(() => api?.stop());

  const submit = (key?: string) => api.call('/v1/contacts', { ...json(contactBody(uniqueId('thread'))), key });

  it('refuses no key, a wrong one and a revoked one with 401, and audits what a known key did', async () => {
    const none = await submit();
    expect(none.status).toBe(401);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);
    const good = await api.key(['contacts:write']);
    expect((await submit(good.key.slice(0, -2) + 'xx')).status).toBe(401);
    expect((await submit(good.key)).status).toBe(202);
    await api.keys.revoke(good.id, 'sup-1');
    await new Promise((r) => setTimeout(r, 1100)); // a key's record is reused for a second
    const revoked = await submit(good.key);
    expect(revoked.status).toBe(401);
    expect(await revoked.json()).toMatchObject({ type: '/problems/unauthorized', detail: 'the API key was revoked' });
    const trail = await api.keys.keys.db.collection('api_audit').find({ keyId: good.id }).sort({ at: 1 }).toArray();
    expect(trail.map((e) => [e.route, e.status])).toEqual([
      ['/v1/contacts', 202],
      ['/v1/contacts', 401],
    ]);
    expect(trail[0]!.contactId).toMatch(/^api-/);
  });

  it('refuses a call outside the key scopes with 403', async () => {
    const reader = await api.key(['queues:read']);
    const res = await submit(reader.key);
    expect(res.status).toBe(403);
    expect(await res.json()).toMatchObject({ type: '/problems/scope-missing', detail: expect.stringContaining('contacts:write') });
  });

  it('answers 429 with Retry-After over the key rate limit, for that key only', async () => {
    const slow = await api.key(['contacts:write'], 2);
    const other = await api.key(['contacts:write'], 2);
    expect((await submit(slow.key)).status).toBe(202);
    expect((await submit(slow.key)).status).toBe(202);
    const over = await submit(slow.key);
    expect(over.status).toBe(429);
    expect(Number(over.headers.get('retry-after'))).toBeGreaterThan(0);
    expect((await submit(other.key)).status).toBe(202);
  });

  it('serves its OpenAPI document without a key, and answers an unknown route or method with a problem', async () => {
    const doc = await api.call('/openapi.json');
    expect(doc.status).toBe(200);
    expect(((await doc.json()) as { openapi: string }).openapi).toBe('3.1.0');
    const missing = await api.call('/v1/nothing');
    expect(missing.status).toBe(404);
    const wrong = await api.call('/v1/contacts', { method: 'DELETE' });
    expect(wrong.status).toBe(405);
    expect(wrong.headers.get('allow')).toBe('POST');
  });
});
