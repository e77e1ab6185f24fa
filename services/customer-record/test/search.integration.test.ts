// Searching conversations through the real broker, index and gRPC call: events published to the
// topics reach the index, each role finds what it may (agents theirs, supervisors all, ops no
// texts), a bad filter is a specific error, and a restart resumes from the index file's positions.
import { status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind, type ListAuditResponse, type SearchConversationsResponse } from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { KAFKA_BROKERS, testContext, uniqueId, waitFor } from '#libs/testing';
import { dropDatabase, REASON, startHarness, tokenFor, type Harness } from './harness';

const run = uniqueId('find').replace(/-/g, '');
const queue = `q${run}`.slice(0, 60);
const dir = mkdtempSync(join(tmpdir(), 'cr-search-'));
const sender = { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `${run}@example.com`, namespace: '' };
const [convA, convB] = [`${run}-a`, `${run}-b`];

// Each record a millisecond after the one before: the order of last activity is the order written.
let clock = Date.now();
const contact = (conversationId: string, text: string, channel = Channel.CHANNEL_EMAIL) =>
  ContactReceived.fromPartial({
    contactId: uniqueId('contact'),
    conversationId,
    channel,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt: new Date(++clock),
    newConversation: true,
    sender: channel === Channel.CHANNEL_EMAIL ? sender : { kind: IdentityKind.IDENTITY_KIND_PHONE, value: '+14155550123', namespace: '' },
    subject: 'Parcel',
    text,
  });
const event = (conversationId: string, step: ConversationEvent['step'], channel = Channel.CHANNEL_EMAIL) =>
  ConversationEvent.fromPartial({ eventId: uniqueId('ev'), conversationId, occurredAt: new Date(++clock), channel, step } as never);

describe('searching conversations', () => {
  let h: Harness;
  let kctx: ServiceContext;
  let kafka: ServiceKafka;
  let ana: string;
  const database = uniqueId('cr_search').replace(/-/g, '_');

  const search = (request: object, role: 'supervisor' | 'ops' | 'agent' = 'supervisor', token?: string) =>
    h.call<object, SearchConversationsResponse>('searchConversations', request, role, token);
  const publishEvent = (e: ConversationEvent) => kafka.producer.publish(topics.conversationEvents, e.conversationId, e, { id: e.eventId });

  beforeAll(async () => {
    h = await startHarness({ database, env: { SEARCH_INDEX_DIR: dir } });
    kctx = testContext('customer-record-search');
    kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
    ana = await tokenFor('ana', 'agent');
    await kafka.producer.publish(topics.contactInbound, convA, contact(convA, `my parcel ${run} never arrived in Lisbon`));
    await kafka.producer.publish(topics.contactInbound, convB, contact(convB, 'wrong size shoes', Channel.CHANNEL_SMS));
    for (const e of [
      event(convA, { $case: 'queued', queued: { queue } } as never),
      event(convB, { $case: 'queued', queued: { queue } } as never, Channel.CHANNEL_SMS),
      event(convA, { $case: 'assigned', assigned: { agentId: 'ana' } } as never),
      event(convB, { $case: 'assigned', assigned: { agentId: 'bo' } } as never, Channel.CHANNEL_SMS),
      event(convB, { $case: 'resolved', resolved: { agentId: 'bo' } } as never, Channel.CHANNEL_SMS),
    ])
      await publishEvent(e);
    await waitFor(
      async () => {
        // The two topics are applied apart: both contacts (one message each) and every step.
        const { hits } = await search({ queue });
        return hits.length === 2 && hits.every((x) => x.messageCount === 1) && (await search({ queue, state: 'resolved' })).hits.length === 1;
      },
      45_000,
      'both conversations indexed',
    );
  }, 90_000);
  afterAll(async () => {
    await kctx.stop();
    await h.stop();
    await dropDatabase(database);
    rmSync(dir, { recursive: true, force: true });
  });

  it('gives a supervisor every conversation, newest activity first, filtered and paged', async () => {
    const all = await search({ queue });
    expect(all.hits.map((x) => x.conversationId)).toEqual([convB, convA]);
    expect(all.hits[1]).toMatchObject({ state: 'assigned', agentId: 'ana', queue, channel: Channel.CHANNEL_EMAIL, subject: 'Parcel', messageCount: 1 });
    expect((await search({ queue, state: 'open' })).hits.map((x) => x.conversationId)).toEqual([convA]);
    expect((await search({ queue, channel: 'sms' })).hits.map((x) => x.conversationId)).toEqual([convB]);
    expect((await search({ agentId: 'bo', queue })).hits.map((x) => x.conversationId)).toEqual([convB]);
    const first = await search({ queue, pageSize: 1 });
    const second = await search({ queue, pageSize: 1, pageToken: first.nextPageToken });
    expect([first.hits[0]!.conversationId, second.hits[0]!.conversationId, second.nextPageToken]).toEqual([convB, convA, '']);
  });

  it('finds by words and by the identity written from, with the words marked', async () => {
    const byWords = await search({ words: `${run} lisbon` });
    expect(byWords.hits.map((x) => x.conversationId)).toEqual([convA]);
    expect(byWords.hits[0]!.snippet).toContain(`[${run}]`);
    // FTS operators typed in are words like any other: no error, no match.
    expect((await search({ words: `${run} NEAR( "OR* ` })).hits).toEqual([]);
    await expect(search({ identity: sender, queue })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('reason is required'),
    });
    expect((await search({ identity: sender, queue, reason: REASON })).hits.map((x) => x.conversationId)).toEqual([convA]);
  });

  it('lets an agent find only the conversations they may read', async () => {
    expect((await search({ queue }, 'agent', ana)).hits.map((x) => x.conversationId)).toEqual([convA]);
    expect((await search({ queue, agentId: 'bo' }, 'agent', ana)).hits).toEqual([]);
    expect((await search({ words: 'shoes' }, 'agent', ana)).hits).toEqual([]);
  });

  it('gives ops metadata only, and no search by words', async () => {
    const hits = (await search({ queue }, 'ops')).hits;
    expect(hits.map((x) => [x.conversationId, x.subject, x.snippet])).toEqual([
      [convB, '', ''],
      [convA, '', ''],
    ]);
    await expect(search({ words: 'parcel' }, 'ops')).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('refuses a malformed filter with a specific error', async () => {
    await expect(search({ state: 'ended' })).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('state must be one of'),
    });
    await expect(search({ activeFrom: 'last week' })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT, details: expect.stringContaining('active_from') });
    await expect(search({ words: 'w'.repeat(300) })).rejects.toMatchObject({ code: status.INVALID_ARGUMENT });
  });

  it('audits every search', async () => {
    const audit = await h.call<object, ListAuditResponse>('listAudit', { actorId: 'supervisor-1', pageSize: 200 });
    expect(audit.entries.some((e) => e.action === 'SearchConversations' && e.reason === REASON)).toBe(true);
  });

  it('resumes from the positions in its file after a restart, without doubling', { timeout: 90_000 }, async () => {
    const before = await h.service.search.positions();
    await h.stop();
    h = await startHarness({ database, env: { SEARCH_INDEX_DIR: dir } });
    // Served from the file at once, before anything new arrives.
    expect((await search({ queue })).hits.map((x) => [x.conversationId, x.messageCount])).toEqual([
      [convB, 1],
      [convA, 1],
    ]);
    const after = await h.service.search.positions();
    for (const [place, offset] of before) expect(BigInt(after.get(place)!)).toBeGreaterThanOrEqual(BigInt(offset));
    await publishEvent(event(convA, { $case: 'replied', replied: { agentId: 'ana', text: `found it ${run}` } } as never));
    await waitFor(async () => (await search({ queue })).hits[0]?.conversationId === convA, 45_000, 'the reply indexed');
    expect((await search({ queue })).hits.map((x) => [x.conversationId, x.messageCount])).toEqual([
      [convA, 2],
      [convB, 1],
    ]);
  });
});
