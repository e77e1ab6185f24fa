// The data-protection officer's look-up and the streamed export against the real store and gRPC:
// customers found by a verified email address (any case), a phone number (any written form) or
// the words of a name (through the search index, fed from the topics); claims never found; malformed input named; nobody found an empty list; every look-up
// audited; no other role may ask; an export larger than one gRPC message (4 MiB) arrives whole.
import { status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROLES } from '#libs/auth';
import { topics } from '#libs/kafka';
import {
  Channel,
  ConversationEvent,
  IdentityKind,
  type ContactReceived,
  type FindCustomersResponse,
  type ListAuditResponse,
  type StreamCustomerExportResponse,
} from '#libs/proto';
import { connectKafka, type ServiceContext } from '#libs/service';
import { KAFKA_BROKERS, testContext, uniqueId, waitFor } from '#libs/testing';
import { EXPORT_CHUNK_BYTES } from '../src/api/export-stream';
import { dropDatabase, emailContact, startHarness, type Harness } from './harness';

const run = uniqueId('officer').replace(/-/g, '');
const REQUEST = 'DPR-2026-0077';
const email = (value: string) => ({ kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' });
const phone = (value: string) => ({ kind: IdentityKind.IDENTITY_KIND_PHONE, value, namespace: '' });
const address = `noor.${run}@example.com`;
const claimed = `claimed.${run}@example.com`;
// A US number in the 555-01xx range kept for fiction, unique enough per run.
const number = `+1415555${String(Math.floor(Math.random() * 10_000)).padStart(4, '0')}`;
const surname = `Haddad${run.slice(-6)}`;
const visitor = { kind: IdentityKind.IDENTITY_KIND_CHAT_VISITOR, value: `v-${run}`, namespace: '' };
const loyalty = { kind: IdentityKind.IDENTITY_KIND_OTHER, value: `m${run.slice(-8)}`, namespace: 'loyalty' };
// Text that is not all ASCII, so the chunks cut through characters.
const LONG_TEXT = 'Grüße aus Köln — bitte alle Daten. '.repeat(600).slice(0, 20_000);

describe("the data-protection officer's look-up and streamed export", () => {
  let h: Harness;
  let kctx: ServiceContext;
  let noorId: string;
  let smsId: string;
  let bigId: string;
  let chatId: string;
  let loyaltyId: string;

  const find = (request: object, role: Parameters<Harness['call']>[2] = 'privacy') =>
    h.call<object, FindCustomersResponse>('findCustomers', { reason: REQUEST, ...request }, role);

  beforeAll(async () => {
    h = await startHarness();
    const noor = emailContact({ sender: email(address), senderDisplayName: `Noor ${surname}`, claimedIdentities: [email(claimed)] });
    await h.service.projection.onContact(noor);
    noorId = (await h.service.store.findConversation(noor.conversationId))!.customerId;
    const sms = emailContact({ channel: Channel.CHANNEL_SMS, sender: phone(number), senderDisplayName: `Sami ${surname}`, subject: '' });
    await h.service.projection.onContact(sms);
    smsId = (await h.service.store.findConversation(sms.conversationId))!.customerId;
    // A chat visitor and a contact written from a loyalty number (kind OTHER), found by those ids.
    const chat = emailContact({ channel: Channel.CHANNEL_CHAT, sender: visitor, senderDisplayName: `Lea ${surname}`, subject: '' });
    await h.service.projection.onContact(chat);
    chatId = (await h.service.store.findConversation(chat.conversationId))!.customerId;
    const api = emailContact({ channel: Channel.CHANNEL_API, sender: loyalty, senderDisplayName: `Omar ${surname}`, subject: '' });
    await h.service.projection.onContact(api);
    loyaltyId = (await h.service.store.findConversation(api.conversationId))!.customerId;
    // A customer whose history alone is over 4 MiB: their first contact through the projection,
    // then 200 more messages of the longest text kept, written to the store as the projection writes them.
    const first = emailContact({ sender: email(`big.${run}@example.com`), text: LONG_TEXT });
    await h.service.projection.onContact(first);
    bigId = (await h.service.store.findConversation(first.conversationId))!.customerId;
    const entry = (await h.service.store.history.findOne({ customerId: bigId }))!;
    const later = Array.from({ length: 200 }, (_, i) => ({ ...entry, _id: `${entry._id}-${i}`, text: `${i} ${LONG_TEXT}`.slice(0, 20_000) }));
    await h.service.store.history.insertMany(later);

    // The look-up by name goes through the search index, fed from the topics: the contacts, and
    // routing's first step, which names each conversation's customer.
    kctx = testContext('officer-requests');
    const kafka = await connectKafka(kctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
    const named: [ContactReceived, string][] = [
      [noor, noorId],
      [sms, smsId],
      [chat, chatId],
      [api, loyaltyId],
    ];
    for (const [c, customerId] of named) {
      await kafka.producer.publish(topics.contactInbound, c.conversationId, c);
      const queued = ConversationEvent.fromPartial({
        eventId: uniqueId('ev'),
        conversationId: c.conversationId,
        customerId,
        channel: c.channel,
        occurredAt: new Date(),
        step: { $case: 'queued', queued: { queue: 'tier1/email/general' } },
      } as never);
      await kafka.producer.publish(topics.conversationEvents, c.conversationId, queued, { id: queued.eventId });
    }
    await waitFor(async () => (await find({ name: surname })).customers.length === named.length, 60_000, 'the names indexed');
  }, 240_000);
  afterAll(async () => {
    await kctx?.stop();
    await h?.stop();
    if (h) await dropDatabase(h.database);
  });

  it('finds a customer by a verified email address in any case, masked, with their last contact', async () => {
    const found = await find({ email: `  ${address.toUpperCase()} ` });
    expect(found.customers).toHaveLength(1);
    const [noor] = found.customers;
    expect(noor).toMatchObject({ customerId: noorId, displayName: `Noor ${surname}`, conversationCount: 1 });
    expect(noor!.maskedIdentities).toEqual([`no***@example.com`]);
    expect(JSON.stringify(found)).not.toContain(address);
    expect(noor!.lastContactAt!.getTime()).toBeGreaterThan(Date.now() - 120_000);
  });

  it('finds a customer by a phone number written nationally or in E.164, never showing the number', async () => {
    const national = `(415) 555-${number.slice(-4)}`;
    for (const written of [national, number, `+1 415-555-${number.slice(-4)}`]) {
      const found = await find({ phone: written });
      expect(found.customers.map((c) => c.customerId)).toEqual([smsId]);
      expect(found.customers[0]!.maskedIdentities).toEqual([`+1 •••${number.slice(-2)}`]);
    }
  });

  it('finds a customer by a chat visitor id and by an id of kind OTHER within its namespace, masked', async () => {
    const byVisitor = await find({ identity: visitor });
    expect(byVisitor.customers.map((c) => [c.customerId, c.maskedIdentities])).toEqual([[chatId, ['chat visitor v-***']]]);
    const byLoyalty = await find({ identity: { ...loyalty, namespace: 'LOYALTY' } });
    expect(byLoyalty.customers.map((c) => [c.customerId, c.maskedIdentities])).toEqual([[loyaltyId, ['loyalty/***']]]);
    expect((await find({ identity: { ...loyalty, namespace: 'partner' } })).customers).toEqual([]);
    expect(JSON.stringify([byVisitor, byLoyalty])).not.toContain(loyalty.value);
  });

  it('finds customers by the starts of the words of a name, case and accents aside', async () => {
    const found = await find({ name: surname.toLowerCase() });
    expect(found.customers.map((c) => c.customerId).sort()).toEqual([noorId, smsId, chatId, loyaltyId].sort());
    expect((await find({ name: `noor ${surname}` })).customers.map((c) => c.customerId)).toEqual([noorId]);
    expect((await find({ name: `NÔO ${surname.slice(0, -2)}` })).customers.map((c) => c.customerId)).toEqual([noorId]);
    // Only the start of a word: the end of the surname is not a word of it.
    expect((await find({ name: surname.slice(2) })).customers).toEqual([]);
    // Pattern characters are no patterns: like a hyphen in a name, they part words.
    expect((await find({ name: `${surname}.*` })).customers.map((c) => c.customerId).sort()).toEqual([noorId, smsId, chatId, loyaltyId].sort());
    expect((await find({ name: `${surname}x` })).customers).toEqual([]);
  });

  it('answers nobody with an empty list, never an address someone only claimed', async () => {
    expect(await find({ email: `nobody.${run}@example.com` })).toEqual({ customers: [], truncated: false });
    expect((await find({ email: claimed })).customers).toEqual([]);
  });

  it('names what is wrong with malformed input', async () => {
    const invalid = (details: string | RegExp) => ({
      code: status.INVALID_ARGUMENT,
      details: typeof details === 'string' ? details : expect.stringMatching(details),
    });
    await expect(find({ email: 'not-an-address' })).rejects.toMatchObject(invalid(/^email: not an email address: no\*\*\*/));
    await expect(find({ phone: '12' })).rejects.toMatchObject(invalid(/^phone: not a phone number/));
    await expect(find({ email: address, phone: number })).rejects.toMatchObject(
      invalid('give exactly one of email, phone, name and identity; got email and phone'),
    );
    await expect(find({})).rejects.toMatchObject(invalid('give exactly one of email, phone, name and identity; got none'));
    await expect(find({ name: 'x' })).rejects.toMatchObject(invalid('name must be 2-100 characters'));
    await expect(find({ email: address, reason: '' })).rejects.toMatchObject(invalid(/^reason is required/));
  });

  it('refuses every role but privacy', async () => {
    for (const role of ROLES.filter((r) => r !== 'privacy')) {
      await expect(find({ email: address }, role)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
      await expect(h.call('streamCustomerExport', { customerId: noorId, reason: REQUEST }, role)).rejects.toMatchObject({ code: status.PERMISSION_DENIED });
    }
  });

  it('audits every look-up as a read of each customer found, and one that found nobody', async () => {
    await find({ email: address, reason: 'DPR-2026-0078' });
    await find({ email: `nobody.${run}@example.com`, reason: 'DPR-2026-0079' });
    const noorAudit = await h.call<object, ListAuditResponse>('listAudit', { customerId: noorId, pageSize: 200 }, 'supervisor');
    expect(noorAudit.entries.find((e) => e.reason === 'DPR-2026-0078')).toMatchObject({
      action: 'FindCustomers',
      actorId: 'privacy-1',
      actorRole: 'privacy',
      customerId: noorId,
    });
    const officer = await h.call<object, ListAuditResponse>('listAudit', { actorId: 'privacy-1', pageSize: 200 }, 'supervisor');
    expect(officer.entries.find((e) => e.reason === 'DPR-2026-0079')).toMatchObject({ action: 'FindCustomers', customerId: '' });
  });

  it('streams an export larger than one gRPC message whole, in chunks of at most 1 MiB, audited', async () => {
    const reason = 'DPR-2026-0080';
    await expect(h.call('exportCustomer', { customerId: bigId, reason }, 'privacy')).rejects.toMatchObject({
      code: status.FAILED_PRECONDITION,
      details: expect.stringMatching(/ask StreamCustomerExport for it in pieces$/),
    });
    const chunks = await h.call<object, StreamCustomerExportResponse[]>('streamCustomerExport', { customerId: bigId, reason }, 'privacy');
    expect(chunks.length).toBeGreaterThan(4);
    expect(chunks.every((c) => c.data.length <= EXPORT_CHUNK_BYTES)).toBe(true);
    expect(chunks[0]!.fileName).toMatch(new RegExp(`^customer-${bigId}-\\d{4}-\\d{2}-\\d{2}\\.json$`));
    const bytes = Buffer.concat(chunks.map((c) => c.data));
    expect(chunks.slice(1).every((c) => c.fileName === '')).toBe(true);
    expect(bytes.length).toBeGreaterThan(4 * 1024 * 1024);
    const doc = JSON.parse(bytes.toString('utf8'));
    expect(doc).toMatchObject({ format: 'contactcenter.customer-export.v1', reason, customer: { _id: bigId } });
    const texts = (doc.history as { text: string }[]).map((e) => e.text);
    expect(texts).toContain(LONG_TEXT);
    expect(texts).toContain(`199 ${LONG_TEXT}`.slice(0, 20_000));
    const audit = await h.call<object, ListAuditResponse>('listAudit', { customerId: bigId, pageSize: 200 }, 'supervisor');
    expect(audit.entries.filter((e) => e.action === 'StreamCustomerExport' && e.reason === reason).map((e) => e.actorId)).toEqual(['privacy-1']);
  });

  it('answers the stream of an unknown customer with NOT_FOUND and its reason', async () => {
    await expect(h.call('streamCustomerExport', { customerId: 'no-such-customer', reason: REQUEST }, 'privacy')).rejects.toMatchObject({
      code: status.NOT_FOUND,
      details: 'no customer no-such-customer',
    });
  });
});
