// What the services rely on from the store, probed against the real one (FerretDB locally, a
// MongoDB replica set through MONGODB_URI). The assertions are the guarantees the design needs:
// a unique insert is a claim exactly one writer wins; an upsert race leaves one document; a
// writer reads its own write. Updates of one document are only measured and logged: no code
// may depend on them being atomic (docs/architecture.md, "What each write relies on").
import { MongoClient, MongoServerError, type Collection, type Document } from 'mongodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dropDatabase, MONGODB_URI, uniqueId } from '../testing';

const WRITERS = 30;
/** Separate clients, so the parallel writes travel on separate connections like separate instances. */
const CLIENTS = 5;

interface Probe extends Document {
  _id: string;
}

const isDuplicateKey = (err: unknown) => err instanceof MongoServerError && err.code === 11000;

/** Runs `write` for writers 0..WRITERS-1 at once, spread over the clients. */
async function race(collections: Collection<Probe>[], write: (c: Collection<Probe>, writer: number) => Promise<unknown>) {
  const outcomes = await Promise.allSettled(Array.from({ length: WRITERS }, (_, w) => write(collections[w % collections.length]!, w)));
  return {
    won: outcomes.filter((o) => o.status === 'fulfilled').length,
    values: outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : [])),
    refused: outcomes.filter((o) => o.status === 'rejected' && isDuplicateKey(o.reason)).length,
    otherErrors: outcomes.flatMap((o) => (o.status === 'rejected' && !isDuplicateKey(o.reason) ? [String(o.reason)] : [])),
  };
}

describe('store guarantees the services rely on (real store)', () => {
  const database = uniqueId('guarantees').replace(/-/g, '_');
  const clients: MongoClient[] = [];
  let collections: Collection<Probe>[];

  beforeAll(async () => {
    for (let i = 0; i < CLIENTS; i++) clients.push(await new MongoClient(MONGODB_URI).connect());
    collections = clients.map((c) => c.db(database).collection<Probe>('probes'));
    await clients[0]!.db(database).collection<Probe>('refs').createIndex({ ref: 1 }, { unique: true });
  });
  afterAll(async () => {
    await Promise.all(clients.map((c) => c.close()));
    await dropDatabase(database);
  });

  it(`an insert under one _id by ${WRITERS} writers at once: exactly one wins, the others are refused with duplicate key`, async () => {
    const id = uniqueId('claim');
    const result = await race(collections, (c, w) => c.insertOne({ _id: id, by: w }));
    expect(result.otherErrors).toEqual([]);
    expect(result.won).toBe(1);
    expect(result.refused).toBe(WRITERS - 1);
    expect(await collections[0]!.countDocuments({ _id: id })).toBe(1);
  });

  it(`an insert under a secondary unique index by ${WRITERS} writers at once: exactly one wins`, async () => {
    const ref = uniqueId('ref');
    const refs = clients.map((c) => c.db(database).collection<Probe>('refs'));
    const result = await race(refs, (c, w) => c.insertOne({ _id: `${ref}-${w}`, ref, by: w }));
    expect(result.otherErrors).toEqual([]);
    expect(result.won).toBe(1);
    expect(result.refused).toBe(WRITERS - 1);
    const ids = Array.from({ length: WRITERS }, (_, w) => `${ref}-${w}`);
    expect(await refs[0]!.countDocuments({ _id: { $in: ids } })).toBe(1);
    expect(await refs[0]!.countDocuments({ ref })).toBe(1);
  });

  it(`a $setOnInsert upsert of one _id by ${WRITERS} writers at once leaves one document, written by one of them`, async () => {
    const id = uniqueId('upsert');
    // A duplicate-key refusal of an upsert is allowed (MongoDB does it too): the caller retries
    // or reads. What must never happen is a second document or a document nobody wrote.
    const result = await race(collections, (c, w) => c.updateOne({ _id: id }, { $setOnInsert: { by: w } }, { upsert: true }));
    expect(result.otherErrors).toEqual([]);
    expect(result.won + result.refused).toBe(WRITERS);
    expect(await collections[0]!.countDocuments({ _id: id })).toBe(1);
    const stored = await collections[0]!.findOne({ _id: id });
    expect(stored?.by).toBeGreaterThanOrEqual(0);
    expect(stored?.by).toBeLessThan(WRITERS);
    console.info(`[store probe] $setOnInsert upsert race: ${result.won} answered ok, ${result.refused} refused with duplicate key`);
  });

  it('a writer reads its own write at once, and so does another connection after the write was acknowledged', async () => {
    const [mine, other] = [collections[0]!, collections[1]!];
    for (let i = 0; i < 20; i++) {
      const id = uniqueId('own');
      await mine.insertOne({ _id: id, n: i });
      expect(await mine.findOne({ _id: id })).toEqual({ _id: id, n: i });
      expect(await other.findOne({ _id: id })).toEqual({ _id: id, n: i });
      await mine.updateOne({ _id: id }, { $set: { n: i + 100 } });
      expect((await mine.findOne({ _id: id }))?.n).toBe(i + 100);
      expect((await other.findOne({ _id: id }))?.n).toBe(i + 100);
    }
  });

  // Measured, not relied on: these numbers show at once what a change of store does.
  it(`measures how many of ${WRITERS} parallel updates of one document survive`, async () => {
    const incId = uniqueId('inc');
    await collections[0]!.insertOne({ _id: incId, n: 0 });
    const inc = await race(collections, (c) => c.updateOne({ _id: incId }, { $inc: { n: 1 } }));
    const afterInc = (await collections[0]!.findOne({ _id: incId }))?.n ?? 0;

    const famId = uniqueId('fam');
    await collections[0]!.insertOne({ _id: famId, n: 0 });
    const fam = await race(collections, (c) => c.findOneAndUpdate({ _id: famId }, { $inc: { n: 1 } }, { returnDocument: 'after' }));
    const distinct = new Set(fam.values.map((d) => (d as Probe | null)?.n)).size;

    const setId = uniqueId('fields');
    await collections[0]!.insertOne({ _id: setId });
    const set = await race(collections, (c, w) => c.updateOne({ _id: setId }, { $set: { [`f${w}`]: w } }));
    const fields = Object.keys((await collections[0]!.findOne({ _id: setId })) ?? {}).filter((k) => k.startsWith('f')).length;

    console.info(
      `[store probe] of ${WRITERS} parallel writes on one document: $inc kept ${afterInc}; ` +
        `findOneAndUpdate $inc returned ${distinct} distinct values; $set of ${WRITERS} different fields kept ${fields}`,
    );
    // Only what holds on any store: every write was answered and at least one of each kind stayed.
    for (const r of [inc, fam, set]) expect(r.otherErrors).toEqual([]);
    expect(afterInc).toBeGreaterThanOrEqual(1);
    expect(afterInc).toBeLessThanOrEqual(WRITERS);
    expect(distinct).toBeGreaterThanOrEqual(1);
    expect(fields).toBeGreaterThanOrEqual(1);
  });
});
