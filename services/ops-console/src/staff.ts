// The staff roster and sessions the console shares with the desk, in the staff database.
import { MongoClient } from 'mongodb';
import type { ServiceContext } from '#libs/service';
import { SessionStore, StaffRoster } from '#libs/staff';
import type { OpsConsoleConfig } from './config';

export async function connectStaff(ctx: ServiceContext, config: OpsConsoleConfig, ttlMs: number, now: () => number) {
  const client = new MongoClient(config.MONGODB_URI, { serverSelectionTimeoutMS: 5000, appName: `${ctx.name}-staff` });
  await client.connect();
  ctx.onStop('mongodb staff', () => client.close());
  const db = client.db(config.STAFF_DB);
  return { roster: new StaffRoster(db), sessions: new SessionStore(db, { app: 'ops-console', secret: config.sessionSecret, ttlMs, now }) };
}
