// Vitest's global set-up: the tests write the project's real topics, consumer groups and
// databases, so they must never run against a live system's broker and store. The test command
// starts a pair of their own and names it in KAFKA_BROKERS and MONGODB_URI; without those, stop.
import { randomBytes } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { topics } from '../kafka/topics';

/** Routing changelogs of the tests' own consumer groups (cc.<group>.state.v1), not the project's topics (cc.agent.state.v1). */
const TEST_CHANGELOG = /^cc\..+\.state\.v1$/;
const PROJECT_TOPICS = new Set(Object.values(topics).map((t) => t.name));

export default function requireOwnInfrastructure(): () => Promise<void> {
  const missing = ['KAFKA_BROKERS', 'MONGODB_URI'].filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} not set: run the tests with \`npm test\` (or \`KEEP_INFRA=1 npm test -- <files>\` to iterate), ` +
        "which starts a Kafka broker and a store of the tests' own, so that they never touch a running system",
    );
  }
  // Every routing instance a test starts creates its group's changelog; they go when the run ends.
  // Only this run's (its id is in every uniqueId the workers make): another run sharing the broker
  // may still be using its own.
  const run = (process.env.TEST_RUN_ID ??= randomBytes(2).toString('hex'));
  return async () => {
    const admin = new Kafka({ clientId: 'test-teardown', brokers: process.env.KAFKA_BROKERS!.split(','), logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const changelogs = (await admin.listTopics()).filter((t) => TEST_CHANGELOG.test(t) && !PROJECT_TOPICS.has(t) && t.includes(`-${run}`));
      if (changelogs.length > 0) await admin.deleteTopics({ topics: changelogs, timeout: 30_000 });
    } finally {
      await admin.disconnect();
    }
  };
}
