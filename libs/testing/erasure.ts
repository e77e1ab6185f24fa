// What every erasure test sets up: a database of its own, the shared broker, erasures published
// as customer-record publishes them (keyed hashes under the test key), and a store following
// cc.erasure.v1 as its service does. `close()` stops the followers, the connections and drops
// the database, in that order.
import { MongoClient, type Db } from 'mongodb';
import { followErasures, subjectKey, type ErasureFollower, type SubjectKind } from '../erasure';
import { topics } from '../kafka/topics';
import { createLogger } from '../observability';
import { connectKafka, type ServiceKafka } from '../service';
import { testErasureKey } from './auth';
import { dropDatabase, KAFKA_BROKERS, MONGODB_URI, testContext, uniqueId } from './index';

export interface ErasureHarness {
  db: Db;
  mongo: MongoClient;
  kafka: ServiceKafka;
  /** Publishes an erasure of one subject, now (the value in clear, hashed here as customer-record does). */
  erase(kind: SubjectKind, value: string): Promise<void>;
  /** Follows the topic as a service does (resolves once what it held is applied); answers how to stop it before `close` (a restart). */
  follow(follower: ErasureFollower): Promise<() => Promise<void>>;
  /** Registers something to stop before the connections close (a part started by the test); answers how to stop it sooner. */
  onClose(stop: () => Promise<void>): () => Promise<void>;
  close(): Promise<void>;
}

/** Publishes an erasure of one subject, now, as customer-record does: the value hashed under the test key. */
export async function publishErasure(producer: ServiceKafka['producer'], kind: SubjectKind, value: string): Promise<void> {
  const key = subjectKey(testErasureKey(), kind, value);
  await producer.publish(topics.erasures, key, { subjectKey: key, erasedAt: new Date(), erasureId: uniqueId('erasure') });
}

export async function erasureHarness(name: string): Promise<ErasureHarness> {
  const database = uniqueId(`${name}_erasure`).replace(/-/g, '_');
  const ctx = testContext(`${name}-erasure`);
  const mongo = await new MongoClient(MONGODB_URI).connect();
  const kafka = await connectKafka(ctx, { KAFKA_BROKERS, KAFKA_TOPIC_PARTITIONS: 3, KAFKA_REPLICATION_FACTOR: 1 });
  const stops: (() => Promise<void>)[] = [];
  // Each part stops once, whether the test stops it first or `close` does.
  const onClose = (stop: () => Promise<void>) => {
    let stopped: Promise<void> | undefined;
    const once = () => (stopped ??= stop());
    stops.push(once);
    return once;
  };
  const db = mongo.db(database);
  return {
    db,
    mongo,
    kafka,
    erase: (kind, value) => publishErasure(kafka.producer, kind, value),
    follow: async (follower) => {
      const reader = await followErasures(
        {
          kafka: kafka.kafka,
          logger: createLogger(`${name}-erasure`, process.env.TEST_LOG_LEVEL ?? 'silent'),
          name,
          secret: testErasureKey(),
          db,
          onStop: () => undefined,
        },
        follower,
      );
      return onClose(async () => reader?.stop());
    },
    onClose,
    close: async () => {
      for (const stop of stops.reverse()) await stop();
      await ctx.stop();
      await mongo.close();
      await dropDatabase(database);
    },
  };
}
