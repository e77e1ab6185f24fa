// Command line for ops teams:
//   npm run ops -- tail <topic|all> [--from-beginning] [--conversation ID]   one JSON line per event
//   npm run ops -- lag                                                        consumer lag per group
import { randomUUID } from 'node:crypto';
import { parseArgs } from 'node:util';
import { Kafka, logLevel } from 'kafkajs';
import { commonConfig, loadConfig, ConfigError } from '#libs/config';
import { allTopics, DEAD_LETTER_TOPIC } from '#libs/kafka';
import { topicLag } from './kafka-io';
import { conversationOf, describeRecord } from './records';

const usage = 'usage: npm run ops -- tail <topic|all> [--from-beginning] [--conversation ID]\n       npm run ops -- lag';
const knownTopics = [...allTopics.map((t) => t.name), DEAD_LETTER_TOPIC];

async function tail(kafka: Kafka, topicArg: string | undefined, fromBeginning: boolean, conversation: string | undefined): Promise<void> {
  if (!topicArg) throw new UsageError('tail needs a topic');
  const topicNames = topicArg === 'all' ? knownTopics : [topicArg];
  for (const t of topicNames) if (!knownTopics.includes(t)) throw new UsageError(`unknown topic ${t}; one of: all, ${knownTopics.join(', ')}`);
  // A throw-away group that commits nothing and is deleted on exit.
  const groupId = `ops-tail-${randomUUID()}`;
  const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 100 });
  await consumer.connect();
  await consumer.subscribe({ topics: topicNames, fromBeginning });
  const stop = async () => {
    await consumer.disconnect();
    const admin = kafka.admin();
    await admin.connect();
    await admin.deleteGroups([groupId]).catch(() => undefined);
    await admin.disconnect();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
  await consumer.run({
    autoCommit: false,
    eachMessage: async ({ topic, partition, message }) => {
      const record = describeRecord({ topic, partition, offset: message.offset, key: message.key, value: message.value, headers: message.headers });
      if (conversation && conversationOf(record) !== conversation) return;
      process.stdout.write(`${JSON.stringify(record)}\n`);
    },
  });
}

async function lag(kafka: Kafka): Promise<void> {
  const admin = kafka.admin();
  await admin.connect();
  try {
    const rows = (await topicLag(admin)).sort((a, b) => a.group.localeCompare(b.group));
    for (const row of rows) process.stdout.write(`${JSON.stringify(row)}\n`);
  } finally {
    await admin.disconnect();
  }
}

class UsageError extends Error {}

async function main(): Promise<void> {
  const { positionals, values } = parseArgs({
    allowPositionals: true,
    options: { 'from-beginning': { type: 'boolean', default: false }, conversation: { type: 'string' } },
  });
  const config = loadConfig({ KAFKA_BROKERS: commonConfig.KAFKA_BROKERS });
  const kafka = new Kafka({ clientId: 'ops-cli', brokers: config.KAFKA_BROKERS, logLevel: logLevel.ERROR });
  const [command, topic] = positionals;
  if (command === 'tail') await tail(kafka, topic, values['from-beginning'] ?? false, values.conversation);
  else if (command === 'lag') await lag(kafka);
  else throw new UsageError(command ? `unknown command ${command}` : 'no command given');
}

main().catch((err: unknown) => {
  if (err instanceof UsageError) process.stderr.write(`${err.message}\n${usage}\n`);
  else if (err instanceof ConfigError) process.stderr.write(`${err.message}\n`);
  else process.stderr.write(`ops: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(2);
});
