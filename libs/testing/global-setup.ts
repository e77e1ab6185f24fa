// Vitest's global set-up: the tests write the project's real topics, consumer groups and
// databases, so they must never run against a live system's broker and store. The test command
// starts a pair of their own and names it in KAFKA_BROKERS and MONGODB_URI; without those, stop.
export default function requireOwnInfrastructure(): void {
  const missing = ['KAFKA_BROKERS', 'MONGODB_URI'].filter((name) => !process.env[name]);
  if (missing.length > 0) {
    throw new Error(
      `${missing.join(' and ')} not set: run the tests with \`npm test\` (or \`KEEP_INFRA=1 npm test -- <files>\` to iterate), ` +
        'which starts a Kafka broker and a store of the tests\' own, so that they never touch a running system',
    );
  }
}
