// Wires MongoDB for a service that owns collections.
import { MongoClient, type Db, type MongoClientOptions } from 'mongodb';
import type { ServiceContext } from './runtime';

/**
 * How every service talks to the store. A store that is down or restarting is waited for by
 * the callers (the consumer retries transient failures without limit, see libs/faults), so an
 * operation must fail within a bounded time rather than hang, and the driver must notice soon
 * that the store is back:
 * - serverSelectionTimeoutMS 5 s: an operation waits that long for a reachable store, then fails
 *   with MongoServerSelectionError (transient) and is retried by its caller.
 * - heartbeatFrequencyMS 2 s: the monitor looks at an idle store this often (10 s by default);
 *   while an operation waits for selection the driver checks every 500 ms anyway.
 * - connectTimeoutMS 5 s: opening a connection and its handshake (30 s by default).
 * - socketTimeoutMS 60 s: a connection whose peer vanished without closing it (the store's host
 *   rebooted, a network cut) fails instead of waiting forever (no limit by default); generous
 *   enough for the local store's longest legitimate scan.
 * - retryReads/retryWrites: one immediate retry after a network error. The local store is a
 *   standalone server, where the driver does not retry writes; a replica set does.
 */
const MONGO_CLIENT_OPTIONS: MongoClientOptions = {
  serverSelectionTimeoutMS: 5000,
  heartbeatFrequencyMS: 2000,
  connectTimeoutMS: 5000,
  socketTimeoutMS: 60_000,
  retryReads: true,
  retryWrites: true,
};

export async function connectMongo(ctx: ServiceContext, config: { MONGODB_URI: string; MONGODB_DATABASE: string }): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(config.MONGODB_URI, { ...MONGO_CLIENT_OPTIONS, appName: ctx.name });
  await client.connect();
  const db = client.db(config.MONGODB_DATABASE);
  await db.command({ ping: 1 });
  ctx.onStop('mongodb', () => client.close());
  ctx.readiness.add('mongodb', async () => (await db.command({ ping: 1 })).ok === 1);
  return { client, db };
}
