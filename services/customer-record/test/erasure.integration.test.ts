// Data-protection requests through the real broker, store, index and gRPC calls: an export holds
// the record, the history and the audit of reads; an erasure empties the store and the index for
// the customer, is audited without the erased data, and a NEW instance replaying the topics does
// not rebuild the customer; only the privacy role may ask; the retention sweep deletes only what is due.
import { status } from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import {
  Channel,
  ContactKind,
  ContactReceived,
  IdentityKind,
  IntermediaryKind,
  MandateAuthority,
  type EraseCustomerResponse,
  type ExportCustomerResponse,
  type ListAuditResponse,
  type SearchConversationsResponse,
} from '#libs/proto';
import { connectKafka, type ServiceContext, type ServiceKafka } from '#libs/service';
import { KAFKA_BROKERS, testContext, uniqueId, waitFor } from '#libs/testing';
import { SqliteConversationIndex } from '../src/search/sqlite-index';
import { dropDatabase, REASON, startHarness, type Harness } from './harness';

const run = uniqueId('dpr').replace(/-/g, '');
const word = `w${run}`;
const email = (local: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `${local}-${run}@example.com`, namespace: '' });
const [ana, bea] = [email('ana'), email('bea')];
const [convAna, convBea] = [`${run}-ana`, `${run}-bea`];
const REQUEST = 'data-protection request DPR-2026-0042';
const agency = `agency-${run}`;

const contact = (conversationId: string, sender: typeof ana, text: string, receivedAt = new Date()) =>
  ContactReceived.fromPartial({
    contactId: uniqueId('contact'),
    conversationId,
    channel: Channel.CHANNEL_EMAIL,
    kind: ContactKind.CONTACT_KIND_MESSAGE,
    receivedAt,
    newConversation: true,
    sender,
    senderDisplayName: 'Ana Example',
    subject: 'My address',
    text,
  });

describe('data-protection requests', () => {
  let h: Harness;
  let kctx: ServiceContext;
  let kafka: ServiceKafka;
  let anaId: string;
  /** Where the event topics ended before this test wrote: a new instance replays from here. */
  let start: Map<string, { partition: number; offset: string }[]>;
  const database = uniqueId('cr_dpr').replace(/-/g, '_');
  const second = uniqueId('cr_dpr2').replace(/-/g, '_');
  const dir = mkdtempSync(join(tmpdir(), 'cr-dpr-'));

  const search = (harness: Harness, request: object) => harness.call<object, SearchConversationsResponse>('searchConversations', request, 'supervisor');

  beforeAll(async () => {
    kctx = testContext('customer-record-dpr');
    kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
    start = await topicEnds(kafka, [topics.contactInbound.name, topics.conversationEvents.name]);
    h = await startHarness({ database });
    await kafka.producer.publish(topics.contactInbound, convAna, contact(convAna, ana, `please change my address to 12 ${word} street`));
    await kafka.producer.publish(topics.contactInbound, convBea, contact(convBea, bea, `${word} parcel for bea`));
    anaId = (await waitFor(() => h.service.store.findCustomerId(ana), 45_000, "ana's contact projected"))!;
    await waitFor(async () => (await search(h, { words: word })).hits.length === 2, 45_000, 'both conversations indexed');
    // A travel agency may act for ana: the export shows the mandate, the erasure takes it away.
    await h.call('upsertIntermediary', {
      intermediary: { intermediaryId: agency, name: 'Sunway Travel', kind: IntermediaryKind.INTERMEDIARY_KIND_AGENCY, identities: [email('desk')] },
      reason: 'contract signed',
    });
    await h.call('grantMandate', { intermediaryId: agency, customerId: anaId, authority: MandateAuthority.MANDATE_AUTHORITY_ACT, reason: 'signed form' });
    // A supervisor's read of ana: the audit of reads the export must show.
    await h.call('getCustomer', { customerId: anaId, reason: REASON }, 'supervisor');
  }, 120_000);
  afterAll(async () => {
    await kctx.stop();
    await h.stop();
    await dropDatabase(database);
    await dropDatabase(second);
    rmSync(dir, { recursive: true, force: true });
  });

  it('exports the record, the history and the audit of reads as one JSON document, audited', async () => {
    const res = await h.call<object, ExportCustomerResponse>('exportCustomer', { customerId: anaId, reason: REQUEST }, 'privacy');
    expect(res.fileName).toMatch(new RegExp(`^customer-${anaId}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    const doc = JSON.parse(res.document);
    expect(doc).toMatchObject({ format: 'contactcenter.customer-export.v1', exportedBy: 'privacy-1', reason: REQUEST });
    expect(doc.customer).toMatchObject({ _id: anaId, displayName: 'Ana Example' });
    expect(doc.identities.map((i: { value: string }) => i.value)).toEqual([ana.value]);
    expect(doc.conversations.map((c: { _id: string }) => c._id)).toEqual([convAna]);
    // Other tests' routing instances add steps without text to the same conversations.
    expect(doc.history.map((e: { text: string }) => e.text).filter(Boolean)).toEqual([`please change my address to 12 ${word} street`]);
    expect(doc.audit).toContainEqual(expect.objectContaining({ action: 'GetCustomer', actorId: 'supervisor-1', reason: REASON }));
    expect(doc.mandates).toEqual([
      {
        intermediaryId: agency,
        intermediaryName: 'Sunway Travel',
        mandate: expect.objectContaining({ customerId: anaId, authority: MandateAuthority.MANDATE_AUTHORITY_ACT }),
      },
    ]);
    const audit = await h.call<object, ListAuditResponse>('listAudit', { customerId: anaId }, 'supervisor');
    expect(audit.entries[0]).toMatchObject({ action: 'ExportCustomer', actorId: 'privacy-1', actorRole: 'privacy', reason: REQUEST });
  });

  it('refuses an unknown customer, a missing reason and every other role, specifically', async () => {
    await expect(h.call('exportCustomer', { customerId: 'no-such-customer', reason: REQUEST }, 'privacy')).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: 'no customer no-such-customer',
    });
    await expect(h.call('eraseCustomer', { customerId: 'no-such-customer', reason: REQUEST }, 'privacy')).rejects.toMatchObject({ code: status.NOT_FOUND });
    await expect(h.call('exportCustomer', { customerId: anaId, reason: '' }, 'privacy')).rejects.toMatchObject({
      code: status.INVALID_ARGUMENT,
      details: expect.stringContaining('reason is required'),
    });
    for (const role of ['supervisor', 'agent', 'ops', 'service'] as const) {
      await expect(h.call('exportCustomer', { customerId: anaId, reason: REQUEST }, role)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      await expect(h.call('eraseCustomer', { customerId: anaId, reason: REQUEST }, role)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    }
    // And the officer reads nothing else.
    await expect(h.call('getCustomer', { customerId: anaId, reason: REQUEST }, 'privacy')).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
  });

  it('erases the customer from the store and the index, audited without the erased data', async () => {
    const res = await h.call<object, EraseCustomerResponse>('eraseCustomer', { customerId: anaId, reason: REQUEST }, 'privacy');
    expect(res.counts).toMatchObject({ customers: 1, identities: 1, conversations: 1, searchRows: 1, mandates: 1 });
    expect(res.counts!.historyEntries).toBeGreaterThanOrEqual(1);
    expect(res.counts!.auditEntries).toBeGreaterThanOrEqual(2);
    const { store } = h.service;
    expect(await store.customers.findOne({ _id: anaId })).toBeNull();
    expect(await store.findCustomerId(ana)).toBeNull();
    expect(await store.conversations.findOne({ _id: convAna })).toBeNull();
    // The agency stays, without its mandate for ana.
    expect((await store.intermediaries.intermediaries.findOne({ _id: agency }))?.mandates).toEqual([]);
    expect(await store.history.countDocuments({ conversationId: convAna })).toBe(0);
    expect((await search(h, { words: word })).hits.map((x) => x.conversationId)).toEqual([convBea]);
    await expect(h.call('exportCustomer', { customerId: anaId, reason: REQUEST }, 'privacy')).rejects.toMatchObject({ code: status.NOT_FOUND });

    // The audit keeps who read and erased, when and why, under the hashed key: never ana.
    await h.service.audit.flush();
    const audit = await h.call<object, ListAuditResponse>('listAudit', { customerId: `erased:${res.subjectKey}` }, 'supervisor');
    expect(audit.entries.map((e) => e.action)).toEqual(['EraseCustomer', 'ListAudit', 'ExportCustomer', 'GetCustomer', 'GrantMandate']);
    expect(audit.entries[0]).toMatchObject({ actorId: 'privacy-1', reason: REQUEST, detail: expect.stringContaining(`key ${res.subjectKey}`) });
    expect(audit.entries[0]!.detail).toMatch(/ \d+ historyEntries/);
    const everything = JSON.stringify(await store.audit.find({}).toArray());
    for (const erased of [anaId, ana.value, word, 'Ana Example']) expect(everything).not.toContain(erased);
    expect(await store.audit.countDocuments({ customerId: anaId })).toBe(0);
  });

  it('drops a late record of the erased customer on live consumption, and keeps what they send afterwards', async () => {
    const late = contact(`${run}-late`, ana, `late ${word} message`, new Date(Date.now() - 60_000));
    const fresh = contact(`${run}-fresh`, ana, 'hello again');
    // One key for both, so they share a partition and the late one is read first.
    await kafka.producer.publish(topics.contactInbound, fresh.conversationId, late);
    await kafka.producer.publish(topics.contactInbound, fresh.conversationId, fresh);
    const again = await waitFor(() => h.service.store.findCustomerId(ana), 45_000, 'the new contact projected');
    expect(again).not.toBe(anaId);
    // The new one is in, so the late one before it was read, and dropped.
    await waitFor(async () => (await h.service.store.findConversation(fresh.conversationId)) !== null, 45_000, 'fresh conversation');
    expect(await h.service.store.findConversation(late.conversationId)).toBeNull();
  });

  it('does not rebuild the erased customer in a new instance replaying the topics', async () => {
    const projection = uniqueId('cr-dpr-projection');
    // The new instance's index file exists first, so its group can start where this test began.
    const index = new SqliteConversationIndex(join(dir, 'conversations.sqlite'));
    const searchGroup = `customer-record-search-${index.indexId()}`;
    index.close();
    await startGroupsAt(kafka, [projection, searchGroup], start);
    const h2 = await startHarness({ database: second, groupId: projection, env: { SEARCH_INDEX_DIR: dir } });
    try {
      await waitFor(() => h2.service.store.findCustomerId(bea), 60_000, "bea's contact replayed");
      await waitFor(async () => (await search(h2, { words: word })).hits.length > 0, 60_000, 'index replayed');
      expect((await search(h2, { words: word })).hits.map((x) => x.conversationId)).toEqual([convBea]);
      expect(await h2.service.store.findConversation(convAna)).toBeNull();
      // Ana's messages are not rebuilt (other tests' routing instances may add later steps without text).
      expect(await h2.service.store.history.countDocuments({ conversationId: convAna, text: { $gt: '' } })).toBe(0);
      // Ana's own later message is hers again, as a new customer would be.
      await waitFor(async () => (await h2.service.store.findConversation(`${run}-fresh`)) !== null, 60_000, 'fresh conversation replayed');
      expect(await h2.service.store.customers.findOne({ _id: anaId })).toBeNull();
    } finally {
      await h2.stop();
    }
  }, 150_000);

  it('sweeps only what is past its retention window, once per turn across instances', async () => {
    const { store } = h.service;
    const day = 86_400_000;
    const now = new Date();
    const ago = (days: number) => new Date(now.getTime() - days * day);
    const base = { customerId: 'cust-old', channel: Channel.CHANNEL_EMAIL, kind: 1, agentId: '', detail: '' };
    await store.history.insertMany([
      { ...base, _id: `${run}-text-due`, conversationId: `${run}-mid`, occurredAt: ago(400), subject: 'old', text: 'old text' },
      { ...base, _id: `${run}-text-kept`, conversationId: `${run}-mid`, occurredAt: ago(10), subject: 'new', text: 'new text' },
      { ...base, _id: `${run}-conv-due`, conversationId: `${run}-old`, occurredAt: ago(800), subject: 'older', text: 'older text' },
    ]);
    const conv = { customerId: 'cust-old', channel: Channel.CHANNEL_EMAIL, subject: '', status: 'resolved', lastAgentId: '', messageCount: 1 };
    await store.conversations.insertMany([
      { ...conv, _id: `${run}-old`, startedAt: ago(800), lastActivityAt: ago(800) },
      { ...conv, _id: `${run}-mid`, startedAt: ago(400), lastActivityAt: ago(10) },
    ]);
    await store.audit.insertMany([
      { _id: `${run}-audit-due`, actorId: 'x', actorRole: 'agent', action: 'GetCustomer', customerId: 'cust-old', conversationId: '', at: ago(800) },
      { _id: `${run}-audit-kept`, actorId: 'x', actorRole: 'agent', action: 'GetCustomer', customerId: 'cust-old', conversationId: '', at: ago(100) },
    ]);
    const counts = await h.service.retention.run(now);
    expect(counts).toMatchObject({ textsRemoved: 1, historyEntries: 1, conversations: 1, auditEntries: 1 });
    expect(await store.history.findOne({ _id: `${run}-text-due` })).toMatchObject({ text: '', subject: '' });
    expect(await store.history.findOne({ _id: `${run}-text-kept` })).toMatchObject({ text: 'new text' });
    expect(await store.history.findOne({ _id: `${run}-conv-due` })).toBeNull();
    expect(await store.conversations.findOne({ _id: `${run}-old` })).toBeNull();
    expect(await store.conversations.findOne({ _id: `${run}-mid` })).not.toBeNull();
    expect(await store.audit.findOne({ _id: `${run}-audit-due` })).toBeNull();
    expect(await store.audit.findOne({ _id: `${run}-audit-kept` })).not.toBeNull();
    // The same turn again (another instance, or this one) is skipped; the next turn finds nothing due.
    expect(await h.service.retention.run(now)).toBeNull();
    expect(await h.service.retention.run(new Date(now.getTime() + 3_600_000))).toMatchObject({
      textsRemoved: 0,
      historyEntries: 0,
      conversations: 0,
      auditEntries: 0,
    });
    // Recent customer data (bea's) is untouched.
    expect(await store.findCustomerId(bea)).not.toBeNull();
  });
});

async function topicEnds(kafka: ServiceKafka, names: string[]): Promise<Map<string, { partition: number; offset: string }[]>> {
  const admin = kafka.kafka.admin();
  await admin.connect();
  try {
    const ends = new Map<string, { partition: number; offset: string }[]>();
    for (const name of names)
      ends.set(
        name,
        (await admin.fetchTopicOffsets(name)).map((p) => ({ partition: p.partition, offset: p.high })),
      );
    return ends;
  } finally {
    await admin.disconnect();
  }
}

/** Commits `start` for new groups: the whole machine's topics are not this test's to replay. */
async function startGroupsAt(kafka: ServiceKafka, groups: string[], start: Map<string, { partition: number; offset: string }[]>): Promise<void> {
  const admin = kafka.kafka.admin();
  await admin.connect();
  try {
    for (const groupId of groups) for (const [topic, partitions] of start) await admin.setOffsets({ groupId, topic, partitions });
  } finally {
    await admin.disconnect();
  }
}
