// Benchmark: customer-record's projection, side by side in one run: the same contacts (each from
// a new sender, opening a conversation) and three conversation events each projected record by
// record (as the consumer did, three partitions at a time) and a fetched batch at a time (as it
// does now); then end to end, published to Kafka and drained by the running service. Each arm has
// a database of its own, dropped afterwards.
//   npm run bench:projection        (BENCH_CONTACTS, default 600; BENCH_BATCH, default 100)
import { cpus, totalmem } from 'node:os';
import { topics } from '#libs/kafka';
import { createLogger } from '#libs/observability';
import { Channel, ContactKind, ContactReceived, ConversationEvent, IdentityKind } from '#libs/proto';
import { connectKafka } from '#libs/service';
import { KAFKA_BROKERS, MONGODB_URI, testContext, uniqueId } from '#libs/testing';
import { MongoClient } from 'mongodb';
import { DEFAULT_REGULAR_RULE } from '../../services/customer-record/src/flags';
import { Projection } from '../../services/customer-record/src/projection';
import { BatchProjection } from '../../services/customer-record/src/projection-batches';
import { CustomerStore } from '../../services/customer-record/src/store';
import { dropDatabase, startHarness } from '../../services/customer-record/test/harness';
import { percentile } from './stats';

const CONTACTS = Number(process.env.BENCH_CONTACTS ?? 600);
const BATCH = Number(process.env.BENCH_BATCH ?? 100);
const LANES = 3;
const logger = createLogger('bench', 'silent');

function workload(run: string) {
  const contacts: ContactReceived[] = [];
  const events: ConversationEvent[] = [];
  for (let i = 0; i < CONTACTS; i++) {
    const conversationId = `${run}-conv-${i}`;
    contacts.push(
      ContactReceived.fromPartial({
        contactId: `${run}-contact-${i}`,
        conversationId,
        channel: Channel.CHANNEL_EMAIL,
        kind: ContactKind.CONTACT_KIND_MESSAGE,
        receivedAt: new Date(),
        sender: { kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `${run}-${i}@example.com`, namespace: '' },
        newConversation: true,
        subject: 'A question',
        text: 'hello',
      }),
    );
    const step = (n: number, s: ConversationEvent['step']) =>
      ConversationEvent.fromPartial({ eventId: `${run}-event-${i}-${n}`, conversationId, occurredAt: new Date(), step: s } as never);
    events.push(
      step(1, { $case: 'assigned', assigned: { agentId: 'agent-1', tier: 1, waitedMs: 1000 } }),
      step(2, { $case: 'replied', replied: { agentId: 'agent-1', text: 'an answer', outboundMessageId: `${run}-out-${i}`, attachments: [] } }),
      step(3, { $case: 'resolved', resolved: { agentId: 'agent-1', disposition: 'answered' } }),
    );
  }
  return { contacts, events };
}

type Arm = { label: string; records: number; seconds: number; p50: number; p99: number; unit: string };

async function timed<T>(items: T[], lanes: number, work: (item: T) => Promise<void>): Promise<number[]> {
  const took: number[] = [];
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < items.length) {
        const item = items[next++]!;
        const t = performance.now();
        await work(item);
        took.push(performance.now() - t);
      }
    }),
  );
  return took;
}

const chunks = <T>(list: T[], size: number) => Array.from({ length: Math.ceil(list.length / size) }, (_, i) => list.slice(i * size, (i + 1) * size));

async function inStore(label: string, project: (store: CustomerStore, w: ReturnType<typeof workload>) => Promise<number[]>, unit: string): Promise<Arm> {
  const client = await new MongoClient(MONGODB_URI).connect();
  const database = uniqueId('bench_projection').replace(/-/g, '_');
  try {
    const store = new CustomerStore(client.db(database), DEFAULT_REGULAR_RULE);
    await store.ensureIndexes();
    const w = workload(uniqueId('p'));
    const t = performance.now();
    const took = await project(store, w);
    const seconds = (performance.now() - t) / 1000;
    return { label, records: w.contacts.length + w.events.length, seconds, p50: percentile(took, 50), p99: percentile(took, 99), unit };
  } finally {
    await client.db(database).dropDatabase();
    await client.close();
  }
}

const oneByOne = (store: CustomerStore, w: ReturnType<typeof workload>) => {
  const projection = new Projection(store, logger, 'US');
  return timed([...w.contacts.map((c) => () => projection.onContact(c)), ...w.events.map((e) => () => projection.onConversationEvent(e))], LANES, (f) => f());
};

const inBatches = (store: CustomerStore, w: ReturnType<typeof workload>) => {
  const batches = new BatchProjection(store, new Projection(store, logger, 'US'), logger, 'US');
  return timed(
    [...chunks(w.contacts, BATCH).map((b) => () => batches.onContacts(b)), ...chunks(w.events, BATCH).map((b) => () => batches.onConversationEvents(b))],
    LANES,
    (f) => f(),
  );
};

/** Published to Kafka at once and drained by the service itself: the time until the last event is in the history. */
async function throughKafka(): Promise<Arm> {
  const h = await startHarness();
  const ctx = testContext('bench-projection');
  try {
    const kafka = await connectKafka(ctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
    const w = workload(uniqueId('k'));
    const t = performance.now();
    await Promise.all(w.contacts.map((c) => kafka.producer.publish(topics.contactInbound, c.conversationId, c, { id: c.contactId })));
    await Promise.all(w.events.map((e) => kafka.producer.publish(topics.conversationEvents, e.conversationId, e, { id: e.eventId })));
    const last = `event:${w.events.at(-1)!.eventId}`;
    const firstContact = `contact:${w.contacts[0]!.contactId}`;
    while (!(await h.service.store.history.findOne({ _id: last })) || !(await h.service.store.history.findOne({ _id: firstContact })))
      await new Promise((r) => setTimeout(r, 100));
    const seconds = (performance.now() - t) / 1000;
    return { label: 'through Kafka (the service)', records: w.contacts.length + w.events.length, seconds, p50: NaN, p99: NaN, unit: '' };
  } finally {
    await ctx.stop();
    await h.stop();
    await dropDatabase(h.database);
  }
}

console.log(`machine: ${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB; Kafka, FerretDB and the benchmark on one machine`);
console.log(`${CONTACTS} contacts from new senders and ${CONTACTS * 3} conversation events; batches of ${BATCH}`);
const arms = [
  await inStore(`record by record (${LANES} at a time)`, oneByOne, 'per record'),
  await inStore(`in batches of ${BATCH} (${LANES} at a time)`, inBatches, 'per batch'),
  await throughKafka(),
];
console.log('| projection | records | seconds | records/s | p50 ms | p99 ms |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: |');
for (const a of arms)
  console.log(
    `| ${a.label} | ${a.records} | ${a.seconds.toFixed(1)} | ${Math.round(a.records / a.seconds)} | ${Number.isNaN(a.p50) ? '–' : `${a.p50} ${a.unit}`} | ${Number.isNaN(a.p99) ? '–' : a.p99} |`,
  );
console.log(`in batches / record by record: ${(arms[0]!.seconds / arms[1]!.seconds).toFixed(1)}× the throughput`);
process.exit(0);
