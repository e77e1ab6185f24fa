// A merge is announced on cc.customer.merges.v1 once it is stored, with the merge id as ce_id;
// one whose publish Kafka did not acknowledge is published by the sweep.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { topics } from '#libs/kafka';
import { createLogger } from '#libs/observability';
import { CustomerMerged, IdentityKind, type MergeCustomersResponse, type ResolveCustomerResponse } from '#libs/proto';
import { KafkaUnavailableError } from '#libs/kafka';
import { recordTopics, uniqueId } from '#libs/testing';
import { MergeAnnouncements } from '../src/merge-announcements';
import { dropDatabase, REASON, startHarness, type Harness, emailContact } from './harness';

type Recorder = Awaited<ReturnType<typeof recordTopics>>;

const contact = (value: string) => emailContact({ sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value, namespace: '' }, subject: '', text: 'hello' });

describe('CustomerMerged on cc.customer.merges.v1', () => {
  let h: Harness;
  let recorder: Recorder;

  beforeAll(async () => {
    recorder = await recordTopics([topics.customerMerges.name]);
    h = await startHarness({ env: { PROJECTION_ENABLED: 'false' } });
  }, 60_000);
  afterAll(async () => {
    await recorder?.close();
    await h?.stop();
    await dropDatabase(h.database);
  });

  async function twoCustomers(): Promise<[string, string]> {
    const ids: string[] = [];
    for (const who of ['a', 'b']) {
      const c = contact(`${uniqueId(`merged-${who}`)}@example.com`);
      await h.service.projection.onContact(c);
      ids.push((await h.call<object, ResolveCustomerResponse>('resolveCustomer', { identity: c.sender, reason: REASON }, 'supervisor')).customer!.customerId);
    }
    return [ids[0]!, ids[1]!];
  }

  it('publishes the merge once it is stored, keyed by the target, with the merge id as ce_id', async () => {
    const [target, source] = await twoCustomers();
    const merged = await h.call<object, MergeCustomersResponse>(
      'mergeCustomers',
      { targetCustomerId: target, sourceCustomerId: source, reason: 'same person' },
      'supervisor',
    );
    const record = await recorder.waitFor((r) => r.headers.ce_id === merged.mergeId, 15_000);
    expect(record.message.key?.toString()).toBe(target);
    expect(record.headers.ce_type).toBe('contactcenter.v1.CustomerMerged');
    expect(CustomerMerged.decode(record.message.value!)).toMatchObject({
      mergeId: merged.mergeId,
      targetCustomerId: target,
      sourceCustomerId: source,
      cause: 'supervisor',
    });
    expect((await h.service.store.merges.findOne({ _id: merged.mergeId }))?.announcedAt).toBeInstanceOf(Date);
  }, 60_000);

  it('leaves a merge Kafka did not take to the sweep, which publishes it', async () => {
    const mergeId = uniqueId('merge');
    await h.service.store.merges.insertOne({
      _id: mergeId,
      targetId: uniqueId('cust'),
      sourceId: uniqueId('cust'),
      reason: 'same person',
      by: 'sup-1',
      at: new Date(),
      identityKeys: [],
      conversationIds: [],
      sourceFlags: { regularRule: null, regularOverride: null },
      state: 'applied',
      cause: 'identity-link',
    });
    const logger = createLogger('test', 'silent');
    const down = new MergeAnnouncements(h.service.store.merges, { publish: () => Promise.reject(new KafkaUnavailableError('broker down')) }, logger);
    await down.announce(mergeId);
    expect((await h.service.store.merges.findOne({ _id: mergeId }))?.announcedAt).toBeUndefined();
    const published: string[] = [];
    const up = new MergeAnnouncements(
      h.service.store.merges,
      {
        publish: async (_topic, _key, message, options) => {
          published.push(`${(message as CustomerMerged).cause} ${options?.id}`);
          return { id: options!.id!, topic: topics.customerMerges.name };
        },
      },
      logger,
    );
    await up.sweep();
    expect(published).toContain(`identity-link ${mergeId}`);
    expect((await h.service.store.merges.findOne({ _id: mergeId }))?.announcedAt).toBeInstanceOf(Date);
    published.length = 0;
    await up.sweep();
    expect(published).not.toContain(`identity-link ${mergeId}`);
  }, 60_000);
});
