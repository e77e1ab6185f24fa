// Readiness probe for the local infrastructure, used by scripts/infra.sh.
//   node scripts/check-infra.mjs kafka 127.0.0.1:9092[,…]  every listed broker answers, the cluster
//                                                           has them all, and a real produce and fetch
//   node scripts/check-infra.mjs mongodb mongodb://...     a real ping
// Exits 0 when ready; otherwise prints why and exits 1.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

const [kind, target] = process.argv.slice(2);
const TOPIC = 'cc.healthcheck.v1';

function client(brokers) {
  return new Kafka({ clientId: 'infra-check', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 2000, retry: { retries: 1 } });
}

// Asks one broker, and only that one, for the cluster's live brokers: it answers, and a node
// that was just restarted counts only once the controller has it back.
async function liveBrokers(address) {
  const admin = client([address]).admin();
  await admin.connect();
  try {
    return (await admin.describeCluster()).brokers.length;
  } finally {
    await admin.disconnect();
  }
}

async function checkKafka(list) {
  const brokers = list.split(',');
  let live = 0;
  for (const address of brokers) {
    live = await liveBrokers(address);
    if (live < brokers.length) throw new Error(`${address} sees ${live} live broker(s), expected ${brokers.length}`);
  }
  const kafka = client(brokers);
  const admin = kafka.admin();
  await admin.connect();
  try {
    // On a cluster the check's own topic is replicated like the services' topics.
    const replicationFactor = Math.min(3, live);
    await admin.createTopics({ topics: [{ topic: TOPIC, numPartitions: 1, replicationFactor }], waitForLeaders: true });
  } finally {
    await admin.disconnect();
  }
  const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
  const consumer = kafka.consumer({ groupId: `infra-check-${randomUUID()}`, maxWaitTimeInMs: 100 });
  const value = randomUUID();
  try {
    await producer.connect();
    const [written] = await producer.send({ topic: TOPIC, acks: -1, messages: [{ value }] });
    await consumer.connect();
    await consumer.subscribe({ topic: TOPIC, fromBeginning: false });
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('produced record was not fetched within 15 s')), 15000);
      consumer
        .run({
          eachMessage: async ({ message }) => {
            if (message.value?.toString() === value) {
              clearTimeout(timer);
              resolve();
            }
          },
        })
        .then(() => consumer.seek({ topic: TOPIC, partition: 0, offset: written.baseOffset ?? '0' }), reject);
    });
  } finally {
    await consumer.disconnect().catch(() => {});
    await producer.disconnect().catch(() => {});
  }
}

async function checkMongo(uri) {
  const client = new MongoClient(uri, { serverSelectionTimeoutMS: 2000 });
  try {
    await client.connect();
    await client.db('admin').command({ ping: 1 });
  } finally {
    await client.close();
  }
}

try {
  if (kind === 'kafka') await checkKafka(target);
  else if (kind === 'mongodb') await checkMongo(target);
  else throw new Error(`unknown kind "${kind}" (kafka or mongodb)`);
  console.log(`${kind} ready`);
  process.exit(0);
} catch (err) {
  console.error(`${kind} not ready: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
