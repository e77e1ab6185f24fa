// Benchmark: the data-protection officer's requests and the stores that follow them. First a
// store following cc.erasure.v1, the email service's, filled with threads. Side by side in one run: a start whose store has noted how far it applied the topic (nothing
// new: no pass) against a start of a store that has not (every erasure on the topic applied: one
// pass over the store); then the pass alone, reading its collections through cursors as it does,
// against the same read held whole (`toArray`, as the passes read before), with the process's
// heap sampled during each. Last, customer-record's export of one customer with a long history,
// written as it is read (as StreamCustomerExport does) against the same document read and built
// whole (as it was). Last, the officer's look-up by name among many customers: through the search
// index (names of the conversations' senders, then each candidate read by `_id`), against the
// scan of the customers it made before. The databases are the benchmark's own, dropped at the end.
//   npm run bench:privacy     (BENCH_CONVERSATIONS, default 100,000, two messages each; BENCH_RUNS, default 3;
//                              BENCH_HISTORY, default 50,000 history entries of about 1 kB;
//                              BENCH_CUSTOMERS, default 100,000)
import { randomBytes } from 'node:crypto';
import { cpus, loadavg, totalmem } from 'node:os';
import { MongoClient } from 'mongodb';
import { claimerOf } from '#libs/delivery';
import { ErasureSet, followErasures, StoredAppliedErasures, subjectKey } from '#libs/erasure';
import { topics } from '#libs/kafka';
import { createLogger } from '#libs/observability';
import { connectKafka } from '#libs/service';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testContext, uniqueId } from '#libs/testing';
import { EmailStore } from '../../services/email/src/store';
import { exportPieces } from '../../services/customer-record/src/export-document';
import { CustomerErasure } from '../../services/customer-record/src/store/erasure';
import { newCustomer, openCollections, type ConversationDoc } from '../../services/customer-record/src/store/records';
import { WriteQueue } from '../../services/customer-record/src/store/write-queue';
import { CustomerDirectory } from '../../services/customer-record/src/store/customers';
import { SqliteConversationIndex } from '../../services/customer-record/src/search/sqlite-index';
import { nameHolds } from '../../services/customer-record/src/search/folding';
import { NAME_CANDIDATES } from '../../services/customer-record/src/officer-lookup';
import { Channel, ContactReceived, ConversationEvent, IdentityKind } from '#libs/proto';
import { percentile } from './stats';

const CONVERSATIONS = Number(process.env.BENCH_CONVERSATIONS ?? 100_000);
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const HISTORY = Number(process.env.BENCH_HISTORY ?? 50_000);
const CUSTOMERS = Number(process.env.BENCH_CUSTOMERS ?? 100_000);
const ERASED = 20;
const secret = randomBytes(32).toString('hex');
const logger = createLogger('bench', 'silent');

/** Runs `work`, sampling the heap every 20 ms; answers seconds and the peak heap growth in MiB. */
async function measured(work: () => Promise<unknown>): Promise<{ seconds: number; heapMiB: number }> {
  global.gc?.();
  const base = process.memoryUsage().heapUsed;
  let peak = base;
  const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().heapUsed)), 20);
  const started = performance.now();
  await work();
  const seconds = (performance.now() - started) / 1000;
  clearInterval(sampler);
  peak = Math.max(peak, process.memoryUsage().heapUsed);
  return { seconds, heapMiB: (peak - base) / 2 ** 20 };
}

async function load(db: ReturnType<MongoClient['db']>, run: string): Promise<void> {
  const started = performance.now();
  const createdAt = new Date(Date.now() - 86_400_000);
  for (let from = 0; from < CONVERSATIONS; from += 5_000) {
    const ids = Array.from({ length: Math.min(5_000, CONVERSATIONS - from) }, (_, i) => `${run}-conv-${from + i}`);
    await db.collection('email_conversations').insertMany(
      ids.map((id, i) => ({
        _id: id,
        reference: `R${from + i}`,
        customerAddress: `c${from + i}@example.com`,
        subject: 'An order',
        openingMessageId: `<${id}@example.com>`,
        createdAt,
      })) as never[],
    );
    await db
      .collection('email_thread_messages')
      .insertMany(ids.flatMap((id) => [0, 1].map((n) => ({ _id: `<${id}-${n}@example.com>`, conversationId: id, at: createdAt }))) as never[]);
  }
  console.log(
    `loaded ${CONVERSATIONS.toLocaleString()} conversations and ${(2 * CONVERSATIONS).toLocaleString()} thread messages in ${((performance.now() - started) / 1000).toFixed(1)} s`,
  );
}

const row = (label: string, runs: { seconds: number; heapMiB: number }[]) => {
  const s = runs.map((r) => r.seconds * 1000);
  const heap = Math.max(...runs.map((r) => r.heapMiB));
  console.log(`| ${label} | ${runs.length} | ${percentile(s, 50).toFixed(1)} | ${Math.max(...s).toFixed(1)} | ${heap.toFixed(1)} |`);
};

async function main() {
  console.log(`${cpus().length} cores, ${Math.round(totalmem() / 2 ** 30)} GB, Node ${process.version}, load average ${loadavg()[0]!.toFixed(1)}`);
  const run = uniqueId('bench');
  const database = `bench_erasure_${randomBytes(4).toString('hex')}`;
  const mongo = await new MongoClient(MONGODB_URI).connect();
  const db = mongo.db(database);
  const ctx = testContext('bench-erasure');
  const kafka = await connectKafka(ctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  try {
    const store = new EmailStore(db, claimerOf('bench'));
    await load(db, run);
    // Erasures of a few of the benchmark's conversations, under its own key (the topic's other records match nothing here).
    for (let i = 0; i < ERASED; i++) {
      const key = subjectKey(secret, 'conversation', `${run}-conv-${i * 97}`);
      await kafka.producer.publish(topics.erasures, key, { subjectKey: key, erasedAt: new Date(), erasureId: uniqueId('erasure') });
    }
    const start = (service: string) =>
      measured(async () => {
        const reader = await followErasures(
          { kafka: kafka.kafka, logger, name: service, secret, db, onStop: () => undefined },
          { what: 'bench', apply: (erased) => store.erase(erased) },
          new StoredAppliedErasures(db, service),
        );
        await reader?.stop();
      });
    const noted: { seconds: number; heapMiB: number }[] = [];
    const anew: { seconds: number; heapMiB: number }[] = [];
    await start('bench-noted');
    for (let i = 0; i < RUNS; i++) {
      noted.push(await start('bench-noted'));
      anew.push(await start(uniqueId('bench-anew')));
    }
    console.log(`\n| a start, ${CONVERSATIONS.toLocaleString()} conversations | runs | p50 ms | max ms | peak heap MiB |\n| --- | ---: | ---: | ---: | ---: |`);
    row('the store noted how far it applied the topic (nothing new)', noted);
    row('a store that had not (every erasure on the topic applied)', anew);

    const erased = ErasureSet.of(secret, [{ subjectKey: subjectKey(secret, 'conversation', `${run}-conv-1`), erasedAt: new Date() }]);
    const cursor: { seconds: number; heapMiB: number }[] = [];
    const whole: { seconds: number; heapMiB: number }[] = [];
    const projection = { projection: { _id: 1, conversationId: 1, at: 1, customerAddress: 1, createdAt: 1 } };
    for (let i = 0; i < RUNS; i++) {
      cursor.push(await measured(() => store.erase(erased)));
      whole.push(
        await measured(async () => {
          const [c, m] = [
            await db.collection('email_conversations').find({}, projection).toArray(),
            await db.collection('email_thread_messages').find({}, projection).toArray(),
          ];
          return c.length + m.length;
        }),
      );
    }
    console.log(`\n| one pass over the store | runs | p50 ms | max ms | peak heap MiB |\n| --- | ---: | ---: | ---: | ---: |`);
    row('the pass, through cursors', cursor);
    row('the same read held whole (toArray)', whole);
    const left = await db
      .collection<{ _id: string }>('email_conversations')
      .countDocuments({ _id: { $in: Array.from({ length: ERASED }, (_, i) => `${run}-conv-${i * 97}`) } });
    console.log(`\nerased conversations left in the store: ${left} of ${ERASED}`);
    await exportSideBySide(mongo, run);
    await namesSideBySide(mongo, run);
  } finally {
    await ctx.stop();
    await mongo.close();
    await dropDatabase(database);
  }
}

/** One customer with HISTORY entries, exported both ways, each run alternately. */
async function exportSideBySide(mongo: MongoClient, run: string): Promise<void> {
  const database = `bench_export_${randomBytes(4).toString('hex')}`;
  const db = mongo.db(database);
  try {
    const c = openCollections(db);
    const customerId = `${run}-customer`;
    const at = Date.now() - 365 * 86_400_000;
    await c.customers.insertOne(newCustomer(customerId, 'Ada Example', [], new Date(at)));
    const text = 'My order has not arrived yet and the tracking page says nothing. '.repeat(15);
    for (let from = 0; from < HISTORY; from += 5_000) {
      const entries = Array.from({ length: Math.min(5_000, HISTORY - from) }, (_, i) => ({
        _id: `contact:${run}-${from + i}`,
        customerId,
        conversationId: `${run}-conv-${Math.floor((from + i) / 10)}`,
        occurredAt: new Date(at + (from + i) * 60_000),
        text: `${from + i} ${text}`,
      }));
      await c.history.insertMany(entries as never[]);
    }
    const erasure = new CustomerErasure(db, c, new WriteQueue());
    const streamed: { seconds: number; heapMiB: number }[] = [];
    const whole: { seconds: number; heapMiB: number }[] = [];
    let bytes = 0;
    for (let i = 0; i < RUNS; i++) {
      streamed.push(
        await measured(async () => {
          const parts = await erasure.exportParts(customerId);
          bytes = 0;
          for await (const piece of exportPieces({ format: 'contactcenter.customer-export.v1', ...parts })) bytes += Buffer.byteLength(piece);
        }),
      );
      whole.push(
        await measured(async () => {
          const customer = await c.customers.findOne({ _id: customerId });
          const history = await c.history.find({ customerId: { $in: [customerId] } }).toArray();
          history.sort((a, b) => a.occurredAt.getTime() - b.occurredAt.getTime());
          return Buffer.from(JSON.stringify({ format: 'contactcenter.customer-export.v1', customer, history }, null, 2), 'utf8').length;
        }),
      );
    }
    console.log(
      `\n| export of one customer, ${HISTORY.toLocaleString()} history entries, ${(bytes / 2 ** 20).toFixed(1)} MiB | runs | p50 ms | max ms | peak heap MiB |\n| --- | ---: | ---: | ---: | ---: |`,
    );
    row('written as it is read (cursors, 1,000 a batch)', streamed);
    row('read and built whole, then encoded', whole);
  } finally {
    await dropDatabase(database);
  }
}

/** Routing's first step, which names the conversation's customer. */
function queuedFor(conversationId: string, customerId: string, occurredAt: Date): ConversationEvent {
  return ConversationEvent.fromPartial({
    eventId: `${conversationId}-queued`,
    conversationId,
    customerId,
    occurredAt,
    step: { $case: 'queued', queued: { queue: 'q' } },
  } as never);
}

const FIRST = ['Ada', 'Noor', 'Li', 'Maria', 'John', 'Fatima', 'Ken', 'Olga', 'Ravi', 'Sara'];
const LAST = ['Example', 'Smith', 'Müller', 'Khan', 'Garcia', 'Tanaka', 'Okafor', 'Rossi', 'Novak', 'Silva'];
const nameOf = (i: number) => `${FIRST[i % 10]} ${LAST[Math.floor(i / 10) % 10]}${i}`;

/** CUSTOMERS customers, each with a conversation in the index; a name some hold and one nobody holds, looked up both ways. */
async function namesSideBySide(mongo: MongoClient, run: string): Promise<void> {
  const database = `bench_names_${randomBytes(4).toString('hex')}`;
  const db = mongo.db(database);
  const index = new SqliteConversationIndex(':memory:');
  try {
    const c = openCollections(db);
    const summary: ConversationDoc = {
      _id: 'conv',
      customerId: 'x',
      channel: Channel.CHANNEL_EMAIL,
      startedAt: new Date(),
      lastActivityAt: new Date(),
      status: 'resolved',
      lastAgentId: 'agent-1',
      subject: 'A question about my order',
      messageCount: 2,
    };
    const started = performance.now();
    for (let from = 0; from < CUSTOMERS; from += 2_000) {
      const ids = Array.from({ length: Math.min(2_000, CUSTOMERS - from) }, (_, k) => from + k);
      await c.customers.insertMany(
        ids.map((i) => ({
          ...newCustomer(`${run}-cust-${i}`, nameOf(i), [{ kind: IdentityKind.IDENTITY_KIND_EMAIL, value: `c${i}@example.com`, namespace: '' }]),
          conversationStarts: Array.from({ length: 5 }, () => new Date()),
          recentConversations: Array.from({ length: 5 }, () => summary),
        })),
      );
      const at = (i: number) => new Date(Date.now() - (CUSTOMERS - i) * 1_000);
      const next = String(from + ids.length);
      index.applyMany([
        {
          kind: 'contacts',
          topic: 'contacts',
          partition: 0,
          nextOffset: next,
          records: ids.map((i) => ({
            offset: String(i),
            value: ContactReceived.fromPartial({
              contactId: `${run}-contact-${i}`,
              conversationId: `${run}-conv-${i}`,
              receivedAt: at(i),
              senderDisplayName: nameOf(i),
            }),
          })),
        },
        {
          kind: 'events',
          topic: 'events',
          partition: 0,
          nextOffset: next,
          records: ids.map((i) => ({ offset: String(i), value: queuedFor(`${run}-conv-${i}`, `${run}-cust-${i}`, at(i)) })),
        },
      ]);
    }
    console.log(`\nloaded ${CUSTOMERS.toLocaleString()} customers (store and index) in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    const directory = new CustomerDirectory(c, new WriteQueue());
    const throughIndex = async (words: string[]) => {
      const live = await directory.liveAmong(await index.customersNamed(words, NAME_CANDIDATES));
      return live.filter((x) => nameHolds(x.displayName, words)).slice(0, 21).length;
    };
    // The look-up as it was: every word a case-insensitive pattern over the customers.
    const byScan = async (words: string[]) =>
      (
        await c.customers
          .find({ mergedInto: null, $and: words.map((w) => ({ displayName: { $regex: w, $options: 'i' } })) })
          .limit(21)
          .toArray()
      ).length;
    const looks = [
      ['a name 1 customer in 100 holds ("noor khan")', ['noor', 'khan']],
      ['a name nobody holds', ['zebedee']],
    ] as const;
    console.log(`\n| look-up by name, ${CUSTOMERS.toLocaleString()} customers | runs | p50 ms | max ms | found |\n| --- | ---: | ---: | ---: | ---: |`);
    for (const [label, words] of looks) {
      for (const [how, look] of [
        ['through the index', throughIndex],
        ['scan of the customers (before)', byScan],
      ] as const) {
        const times: number[] = [];
        let found = 0;
        for (let i = 0; i < RUNS; i++) {
          const t = performance.now();
          found = await look([...words]);
          times.push(performance.now() - t);
        }
        console.log(`| ${label}, ${how} | ${RUNS} | ${percentile(times, 50).toFixed(1)} | ${Math.max(...times).toFixed(1)} | ${found} |`);
      }
    }
  } finally {
    index.close();
    await dropDatabase(database);
  }
}

await main();
process.exit(0);
