// Against the real local broker: the Kafka transaction behaviours the routing service relies on
// (one fixed transactionalId for the active instance; each batch of decisions is one transaction
// with changelog records, output events and the consumed input offsets), through kafkajs as it
// really behaves, rough edges included.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Kafka, logLevel, Partitioners, type Admin, type Consumer, type ITopicConfig, type Message, type Producer, type ProducerConfig } from 'kafkajs';
import { KAFKA_BROKERS, uniqueId, waitFor } from '#libs/testing';

/** The transactional producer exactly as the routing service creates it. */
const transactionalProducerConfig = (transactionalId: string): ProducerConfig => ({
  transactionalId,
  idempotent: true,
  maxInFlightRequests: 1,
  allowAutoTopicCreation: false,
  createPartitioner: Partitioners.DefaultPartitioner,
  // A transaction begun right after the previous commit is answered CONCURRENT_TRANSACTIONS
  // until the commit markers are written: retry that after 10 ms, not kafkajs' default 300 ms.
  retry: { initialRetryTime: 10, maxRetryTime: 500, retries: 12 },
});

const kafka = new Kafka({ clientId: uniqueId('txn-test'), brokers: KAFKA_BROKERS, logLevel: logLevel.NOTHING });
let admin: Admin;
const createdTopics: string[] = [];
const createdGroups: string[] = [];

beforeAll(async () => {
  admin = kafka.admin();
  await admin.connect();
});

afterAll(async () => {
  if (createdGroups.length > 0) await admin.deleteGroups(createdGroups).catch(() => undefined);
  if (createdTopics.length > 0) await admin.deleteTopics({ topics: createdTopics });
  await admin.disconnect();
});

/** Topics of the test's own, created with the admin and deleted after the file. */
async function createTopics(...specs: ITopicConfig[]): Promise<string[]> {
  await admin.createTopics({ waitForLeaders: true, topics: specs });
  createdTopics.push(...specs.map((s) => s.topic));
  return specs.map((s) => s.topic);
}

function groupId(prefix: string): string {
  const id = uniqueId(prefix);
  createdGroups.push(id);
  return id;
}

async function transactionalProducer(transactionalId: string): Promise<Producer> {
  const producer = kafka.producer(transactionalProducerConfig(transactionalId));
  await producer.connect();
  return producer;
}

/** Plain, non-transactional records (the input a routing instance would consume). */
async function produce(topic: string, messages: Message[]): Promise<void> {
  const producer = kafka.producer({ allowAutoTopicCreation: false });
  await producer.connect();
  try {
    await producer.send({ topic, messages });
  } finally {
    await producer.disconnect();
  }
}

interface Read {
  topic: string;
  partition: number;
  key: string;
  value: string;
}

/**
 * Reads topics from the beginning in a consumer group of its own; read_committed unless told
 * otherwise (kafkajs' default). `fetches` counts the fetches answered, so a test can let the
 * consumer go on past what it has seen before concluding nothing more arrives.
 */
async function readTopics(
  topicNames: string[],
  options: { readUncommitted?: boolean } = {},
): Promise<{ records: Read[]; fetches(): number; settle(): Promise<void>; close(): Promise<void> }> {
  const consumer: Consumer = kafka.consumer({ groupId: groupId('txn-reader'), maxWaitTimeInMs: 50, readUncommitted: options.readUncommitted ?? false });
  const records: Read[] = [];
  let fetches = 0;
  consumer.on(consumer.events.FETCH, () => {
    fetches++;
  });
  await consumer.connect();
  await consumer.subscribe({ topics: topicNames, fromBeginning: true });
  await consumer.run({
    eachMessage: async ({ topic, partition, message }) => {
      records.push({ topic, partition, key: message.key?.toString() ?? '', value: message.value?.toString() ?? '' });
    },
  });
  return {
    records,
    fetches: () => fetches,
    // A few more fetches after the caller's condition: anything still to come would have come.
    async settle() {
      const target = fetches + 5;
      await waitFor(() => fetches >= target, 15_000, 'five more fetches');
    },
    close: () => consumer.disconnect(),
  };
}

/**
 * A one-record committed transaction. Its first request after the previous transaction ended
 * is answered CONCURRENT_TRANSACTIONS (and retried) until that transaction is complete, markers
 * written to every partition and the group's offsets; so once this commits, the one before it
 * is fully committed or aborted everywhere.
 */
async function afterPreviousTransactionCompleted(producer: Producer, topic: string): Promise<void> {
  const txn = await producer.transaction();
  await txn.send({ topic, messages: [{ key: 'settle', value: 'settle' }] });
  await txn.commit();
}

async function committedOffset(group: string, topic: string, partition = 0): Promise<string | undefined> {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] });
  return offsets?.partitions.find((p) => p.partition === partition)?.offset;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('Kafka transactions through kafkajs', () => {
  it('commits 40 transactions back to back on one producer; read_committed sees every record once, in order', async () => {
    const [changelog, output, input] = await createTopics(
      { topic: uniqueId('txn-changelog'), numPartitions: 3, configEntries: [{ name: 'cleanup.policy', value: 'compact' }] },
      { topic: uniqueId('txn-output'), numPartitions: 3 },
      { topic: uniqueId('txn-input'), numPartitions: 1 },
    );
    const group = groupId('txn-routing');
    const producer = await transactionalProducer(uniqueId('txn-routing'));
    const sent: Read[] = [];
    try {
      for (let n = 0; n < 40; n++) {
        const txn = await producer.transaction();
        for (const topic of [changelog!, output!]) {
          // 1-3 records per topic, keys spread over the partitions.
          const messages = Array.from({ length: 1 + ((n + topic.length) % 3) }, (_, i) => ({
            key: `conv-${(n + i) % 7}`,
            value: `${String(n).padStart(2, '0')}:${i}`,
          }));
          await txn.send({ topic, messages });
          sent.push(...messages.map((m) => ({ topic, partition: -1, key: m.key, value: m.value })));
        }
        await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: input!, partitions: [{ partition: 0, offset: String(n + 1) }] }] });
        await txn.commit();
      }
    } finally {
      await producer.disconnect();
    }

    const reader = await readTopics([changelog!, output!]);
    try {
      await waitFor(() => reader.records.length >= sent.length, 30_000, `${sent.length} records`);
      await reader.settle();
      const seen = reader.records;
      // Exactly once: the same records, none twice, none missing.
      const byValue = (r: Read) => `${r.topic}|${r.key}|${r.value}`;
      expect(seen.map(byValue).sort()).toEqual(sent.map(byValue).sort());
      // In order: each partition holds its records in the order they were sent.
      const order = new Map(sent.map((r, i) => [byValue(r), i]));
      for (const topic of [changelog!, output!]) {
        for (let partition = 0; partition < 3; partition++) {
          const positions = seen.filter((r) => r.topic === topic && r.partition === partition).map((r) => order.get(byValue(r))!);
          expect(positions).toEqual([...positions].sort((a, b) => a - b));
        }
      }
      // Every transaction's offsets were committed with it: the group stands at the last one's.
      expect(await committedOffset(group, input!)).toBe('40');
    } finally {
      await reader.close();
    }
  });

  it('fences a producer whose transactionalId another producer initialised: its commit fails, its record is aborted', async () => {
    const [topic] = await createTopics({ topic: uniqueId('txn-fenced'), numPartitions: 1 });
    const transactionalId = uniqueId('txn-fenced');
    const a = await transactionalProducer(transactionalId);
    const b = await transactionalProducer(transactionalId);
    try {
      const txnA = await a.transaction();
      await txnA.send({ topic: topic!, messages: [{ key: 'a', value: 'from-a' }] });

      // B's transaction() sends InitProducerId for the same id: the coordinator aborts A's open
      // transaction and bumps the epoch (kafkajs retries the CONCURRENT_TRANSACTIONS meanwhile).
      const txnB = await b.transaction();
      await txnB.send({ topic: topic!, messages: [{ key: 'b', value: 'from-b' }] });
      await txnB.commit();

      // Found against Kafka 3.9.1: A's commit (EndTxn v1, the highest kafkajs 2.2.4 speaks) is
      // refused with INVALID_PRODUCER_EPOCH (47): the broker answers PRODUCER_FENCED (90) only to
      // EndTxn v2+, and kafkajs does not know code 90 anyway. EndTxn goes out without kafkajs'
      // retrier, so the error is the bare protocol error: no KafkaJSNumberOfRetriesExceeded, no
      // cause or originalError.
      const commitError: unknown = await txnA.commit().then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(commitError).toMatchObject({ name: 'KafkaJSProtocolError', type: 'INVALID_PRODUCER_EPOCH', code: 47, retriable: false });
      expect((commitError as { cause?: unknown }).cause).toBeUndefined();
      expect((commitError as { originalError?: unknown }).originalError).toBeUndefined();

      // A stays unusable for transactions: the failed commit left kafkajs' transaction state at
      // COMMITTING, so A cannot even begin the next transaction (its send is never reached) and
      // cannot abort the failed one. Only a new producer would work, and creating one with the
      // same transactionalId would fence B in turn.
      await expect(txnA.abort()).rejects.toMatchObject({ name: 'KafkaJSNonRetriableError', message: 'Cannot continue to use transaction once ended' });
      await expect(a.transaction().then((txn) => txn.send({ topic: topic!, messages: [{ key: 'a', value: 'from-a-again' }] }))).rejects.toMatchObject({
        name: 'KafkaJSNonRetriableError',
        message: 'Transaction state exception: Cannot call "beginTransaction" in state "COMMITTING"',
      });
    } finally {
      await Promise.all([a.disconnect(), b.disconnect()]);
    }

    const committed = await readTopics([topic!]);
    const everything = await readTopics([topic!], { readUncommitted: true });
    try {
      await waitFor(() => committed.records.some((r) => r.value === 'from-b'), 15_000, "B's record, read committed");
      // A's record was written (read_uncommitted sees it), and aborted.
      await waitFor(() => everything.records.some((r) => r.value === 'from-a'), 15_000, "A's record, read uncommitted");
      await committed.settle();
      expect(committed.records.map((r) => r.value)).toEqual(['from-b']);
    } finally {
      await Promise.all([committed.close(), everything.close()]);
    }
  });

  it('commits the offsets sent in a transaction with it, and drops them when it is aborted', async () => {
    const [input, output] = await createTopics(
      { topic: uniqueId('txn-offsets-in'), numPartitions: 1 },
      { topic: uniqueId('txn-offsets-out'), numPartitions: 1 },
    );
    const group = groupId('txn-offsets');
    const producer = await transactionalProducer(uniqueId('txn-offsets'));
    // As the routing service does it, every transaction sends its records before its offsets.
    const transactionWithOffset = async (offset: number, end: 'commit' | 'abort') => {
      const txn = await producer.transaction();
      await txn.send({ topic: output!, messages: [{ key: 'k', value: `offset ${offset}` }] });
      await txn.sendOffsets({ consumerGroupId: group, topics: [{ topic: input!, partitions: [{ partition: 0, offset: String(offset) }] }] });
      await (end === 'commit' ? txn.commit() : txn.abort());
    };
    try {
      await produce(
        input!,
        Array.from({ length: 10 }, (_, i) => ({ value: `input ${i}` })),
      );

      await transactionWithOffset(4, 'abort');
      await afterPreviousTransactionCompleted(producer, output!);
      expect(await committedOffset(group, input!)).toBe('-1');

      await transactionWithOffset(4, 'commit');
      await waitFor(async () => (await committedOffset(group, input!)) === '4', 15_000, 'the committed offset 4');

      await transactionWithOffset(9, 'abort');
      await afterPreviousTransactionCompleted(producer, output!);
      expect(await committedOffset(group, input!)).toBe('4');
    } finally {
      await producer.disconnect();
    }
  });

  it('hides aborted records from read_committed consumers, which go on past an abort marker at the end of a partition', async () => {
    const [topic] = await createTopics({ topic: uniqueId('txn-aborted'), numPartitions: 1 });
    const producer = await transactionalProducer(uniqueId('txn-aborted'));
    const transaction = async (value: string, end: 'commit' | 'abort') => {
      const txn = await producer.transaction();
      await txn.send({ topic: topic!, messages: [{ key: 'k', value }] });
      await (end === 'commit' ? txn.commit() : txn.abort());
    };
    const committed = await readTopics([topic!]);
    const everything = await readTopics([topic!], { readUncommitted: true });
    try {
      await transaction('c1', 'commit');
      await transaction('a1', 'abort');
      // The aborted transaction and its marker are the last thing on the partition, and the
      // consumer fetches there for a while before anything else is written.
      await waitFor(() => committed.records.some((r) => r.value === 'c1'), 15_000, 'c1');
      await waitFor(() => everything.records.some((r) => r.value === 'a1'), 15_000, 'a1, read uncommitted');
      await committed.settle();

      await transaction('c2', 'commit');
      await waitFor(() => committed.records.some((r) => r.value === 'c2'), 15_000, 'c2 after the aborted transaction');
      // And once more while it is running: abort, then commit.
      await transaction('a2', 'abort');
      await transaction('c3', 'commit');
      await waitFor(() => committed.records.some((r) => r.value === 'c3'), 15_000, 'c3 after the second aborted transaction');
      await waitFor(() => everything.records.some((r) => r.value === 'c3'), 15_000, 'c3, read uncommitted');
      await committed.settle();

      expect(committed.records.map((r) => r.value)).toEqual(['c1', 'c2', 'c3']);
      expect(everything.records.map((r) => r.value)).toEqual(['c1', 'a1', 'c2', 'a2', 'c3']);
    } finally {
      await Promise.all([committed.close(), everything.close(), producer.disconnect()]);
    }
  });

  it("keeps a consumer's membership through a handler slower than the session timeout that heartbeats", { timeout: 30_000 }, async () => {
    const [topic] = await createTopics({ topic: uniqueId('txn-slow'), numPartitions: 1 });
    const group = groupId('txn-slow');
    const consumer = kafka.consumer({ groupId: group, sessionTimeout: 6000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
    const joins: string[] = [];
    const crashes: unknown[] = [];
    const rebalances: unknown[] = [];
    const heartbeatErrors: unknown[] = [];
    let batchesDone = 0;
    consumer.on(consumer.events.GROUP_JOIN, (e) => {
      joins.push(e.payload.memberId);
    });
    consumer.on(consumer.events.CRASH, (e) => {
      crashes.push(e.payload.error);
    });
    consumer.on(consumer.events.REBALANCING, (e) => {
      rebalances.push(e.payload);
    });
    try {
      await consumer.connect();
      await consumer.subscribe({ topics: [topic!], fromBeginning: true });
      await consumer.run({
        eachBatch: async ({ batch, heartbeat, resolveOffset }) => {
          const timer = setInterval(() => {
            heartbeat().catch((e: unknown) => heartbeatErrors.push(e));
          }, 500);
          try {
            // Longer than the session timeout: without the heartbeats the broker would drop the member.
            await sleep(8000);
          } finally {
            clearInterval(timer);
          }
          for (const message of batch.messages) resolveOffset(message.offset);
          batchesDone++;
        },
      });
      await produce(topic!, [{ key: 'k', value: 'slow' }]);

      await waitFor(() => batchesDone >= 1, 20_000, 'the slow batch');
      // Long enough for a dropped member to find out (its next heartbeat or commit) and rejoin.
      await sleep(2000);

      expect(heartbeatErrors).toEqual([]);
      expect(crashes).toEqual([]);
      expect(rebalances).toEqual([]);
      expect(joins).toHaveLength(1);
      const [description] = (await admin.describeGroups([group])).groups;
      expect(description).toMatchObject({ state: 'Stable', members: [{ memberId: joins[0] }] });
    } finally {
      await consumer.disconnect();
    }
  });
});
