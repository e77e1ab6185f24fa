// kafkajs's produce path as patched in patches/kafkajs+2.2.4.patch: when a partition's leader dies
// during a send and the partition moves to a broker that already answered for another partition
// of the same send, the retry must still write it there. Unpatched, kafkajs kept answers by broker,
// skipped the moved partition and reported it as written (acknowledged records missing from the
// topic after a node of a cluster was killed).
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

interface Entry {
  partition: number;
  firstSequence: number;
  messages: { value: string }[];
}
interface ProduceRequest {
  topicData: { topic: string; partitions: Entry[] }[];
}
type Send = (request: {
  acks: number;
  timeout: number;
  topicMessages: { topic: string; messages: { value: string; partition: number }[] }[];
}) => Promise<{ topicName: string; partition: number; errorCode: number }[]>;

const require = createRequire(import.meta.url);
const createSendMessages = require('kafkajs/src/producer/sendMessages.js') as (deps: object) => Send;
const createRetry = require('kafkajs/src/retry/index.js') as (options: object) => unknown;

const TOPIC = 'cc.test.v1';

/** Two brokers; partition 0 is led by broker 1 until it dies, then by broker 2, which also leads partition 1. */
function twoBrokers(options: { slowBroker2Ms?: number } = {}) {
  const leaders: Record<number, number> = { 0: 1, 1: 2 };
  const produced: { nodeId: number; partitions: Entry[] }[] = [];
  const sequences = new Map<number, number>();
  const broker = (nodeId: number) => ({
    nodeId,
    async produce(request: ProduceRequest) {
      const partitions = request.topicData.flatMap((t) => t.partitions);
      if (nodeId === 1) {
        leaders[0] = 2;
        throw Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionError', retriable: true });
      }
      if (options.slowBroker2Ms) await new Promise((r) => setTimeout(r, options.slowBroker2Ms));
      produced.push({ nodeId, partitions });
      return { topics: [{ topicName: TOPIC, partitions: partitions.map((p) => ({ partition: p.partition, errorCode: 0, baseOffset: '0' })) }] };
    },
  });
  const brokers = new Map([1, 2].map((id) => [id, broker(id)]));
  const cluster = {
    targetTopics: new Set<string>(),
    async addMultipleTargetTopics() {},
    async refreshMetadataIfNecessary() {},
    async refreshMetadata() {},
    isConnected: () => true,
    removeBroker() {},
    findTopicPartitionMetadata: () => [0, 1].map((partitionId) => ({ partitionId, leader: leaders[partitionId] })),
    findLeaderForPartitions(_topic: string, partitions: string[]) {
      const result: Record<number, number[]> = {};
      for (const p of partitions.map(Number)) (result[leaders[p]!] ??= []).push(p);
      return result;
    },
    findBroker: async ({ nodeId }: { nodeId: string }) => brokers.get(Number(nodeId)),
  };
  const eosManager = {
    isTransactional: () => false,
    acquireBrokerLock: async () => {},
    releaseBrokerLock: async () => {},
    getProducerId: () => 7,
    getProducerEpoch: () => 0,
    getSequence: (_t: string, p: number) => sequences.get(p) ?? 0,
    updateSequence: (_t: string, p: number, n: number) => void sequences.set(p, (sequences.get(p) ?? 0) + n),
  };
  const logger = { debug() {}, error() {}, warn() {}, info() {} };
  const send = createSendMessages({
    logger,
    cluster,
    eosManager,
    partitioner: ({ message }: { message: { partition: number } }) => message.partition,
    retrier: createRetry({ retries: 3, initialRetryTime: 1, maxRetryTime: 5 }),
  });
  return { send, produced, sequences };
}

const messages = [
  { value: 'a', partition: 0 },
  { value: 'b', partition: 1 },
  { value: 'c', partition: 0 },
];

describe('a send whose partition leader dies and moves to a broker that already answered', () => {
  it('writes the moved partition to its new leader, once, and answers for both partitions', async () => {
    const { send, produced, sequences } = twoBrokers();
    const answers = await send({ acks: -1, timeout: 1000, topicMessages: [{ topic: TOPIC, messages }] });

    const written = produced.flatMap(({ nodeId, partitions }) =>
      partitions.map((p) => ({ nodeId, partition: p.partition, values: p.messages.map((m) => m.value) })),
    );
    expect(written).toEqual([
      { nodeId: 2, partition: 1, values: ['b'] },
      { nodeId: 2, partition: 0, values: ['a', 'c'] },
    ]);
    // The failed request's sequence numbers were given back: partition 0 went out from 0 again.
    expect(produced[1]!.partitions[0]!.firstSequence).toBe(0);
    expect(Object.fromEntries(sequences)).toEqual({ 0: 2, 1: 1 });
    expect(answers.map((a) => a.partition).sort()).toEqual([0, 1]);
  });

  it('lets a request still in flight finish before retrying, so it is never sent twice', async () => {
    const { send, produced } = twoBrokers({ slowBroker2Ms: 30 });
    await send({ acks: -1, timeout: 1000, topicMessages: [{ topic: TOPIC, messages }] });
    expect(produced.map((p) => p.partitions.map((e) => e.partition))).toEqual([[1], [0]]);
  });
});
