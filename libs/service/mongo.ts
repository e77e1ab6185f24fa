// Wires MongoDB for a service that owns collections.
import { MongoClient, type Db } from 'mongodb';
import type { ServiceContext } from './runtime';

export async function connectMongo(ctx: ServiceContext, config: { MONGODB_URI: string; MONGODB_DATABASE: string }): Promise<{ client: MongoClient; db: Db }> {
  const client = new MongoClient(config.MONGODB_URI, { serverSelectionTimeoutMS: 5000, appName: ctx.name });
  await client.connect();
  const db = client.db(config.MONGODB_DATABASE);
  await db.command({ ping: 1 });
  ctx.onStop('mongodb', () => client.close());
  ctx.readiness.add('mongodb', async () => (await db.command({ ping: 1 })).ok === 1);
  return { client, db };
}
