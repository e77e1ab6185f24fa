// The store's connections are cut again and again while operations run: after each cut the
// client must find the store again by itself. The driver's monitor could take a connection whose
// socket had ended but not yet closed, write its heartbeat into it and wait for ever, so no
// operation was ever served again (libs/patches/mongodb+7.9.0.patch).
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from 'mongodb';
import { cuttableProxy, storeAddress, testContext, uniqueId } from '../testing';
import { connectMongo } from './mongo';
import type { ServiceContext } from './runtime';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('the store client through repeated connection cuts', () => {
  let ctx: ServiceContext;
  let db: Db;
  let proxy: Awaited<ReturnType<typeof cuttableProxy>>;
  const collection = uniqueId('cuts');

  beforeAll(async () => {
    const store = storeAddress();
    proxy = await cuttableProxy(store.host, store.port);
    ctx = testContext('mongo-cuts-test');
    ({ db } = await connectMongo(ctx, { MONGODB_URI: `mongodb://127.0.0.1:${proxy.port}`, MONGODB_DATABASE: 'contactcenter_test' }));
  });
  afterAll(async () => {
    proxy.restore();
    await db.collection(collection).drop();
    await ctx.stop();
    await proxy.close();
  });

  it('serves operations again within seconds of every cut', { timeout: 120_000 }, async () => {
    const docs = db.collection<{ at: Date }>(collection);
    let running = true;
    // Operations in flight at every cut, as in a service under load.
    const worker = async () => {
      while (running) {
        try {
          await docs.insertMany(Array.from({ length: 10 }, () => ({ at: new Date() })));
          await docs.find({}).limit(20).toArray();
        } catch {
          await sleep(50);
        }
      }
    };
    const workers = Array.from({ length: 6 }, worker);
    const recoveries: number[] = [];
    try {
      for (let cut = 0; cut < 10; cut++) {
        await sleep(200 + Math.random() * 800);
        proxy.cut();
        await sleep(500 + Math.random() * 2000);
        proxy.restore();
        const restored = Date.now();
        for (;;) {
          try {
            await docs.findOne({});
            break;
          } catch (err) {
            if (Date.now() - restored > 20_000) throw new Error(`no operation served 20 s after cut ${cut + 1} ended: ${(err as Error).message}`);
            await sleep(100);
          }
        }
        recoveries.push(Date.now() - restored);
      }
    } finally {
      running = false;
      await Promise.all(workers);
    }
    expect(recoveries).toHaveLength(10);
    expect(Math.max(...recoveries)).toBeLessThan(10_000);
  });
});
