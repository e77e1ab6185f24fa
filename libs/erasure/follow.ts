// A service's own store following cc.erasure.v1: what the topic held at start and the store has
// not applied yet is applied before the service goes on, each later batch as it arrives. How far
// the store applied the topic is noted in the store (`applied.ts`), so a start with no new erasure
// looks through nothing. The store's part says what it deleted, counted in the log (never a key
// or a value).
import type { Kafka } from 'kafkajs';
import type { Db } from 'mongodb';
import type { Logger } from '#libs/observability';
import { positionsAfter, StoredAppliedErasures, unapplied, type AppliedErasures } from './applied';
import { ErasureReader, type ReadNotice } from './reader';
import { ErasureSet } from './subjects';

type Counts = Record<string, number>;

export interface ErasureFollower {
  /** Which store, for the log. */
  what: string;
  /** Deletes or scrubs what the store keeps of the erased subjects; answers counts by kind. */
  apply(erased: ErasureSet): Promise<Counts>;
  /**
   * What this process alone keeps (a spool on its own disk), which another instance's progress
   * says nothing about: given every erasure the topic holds at start, then each batch.
   */
  applyLocal?(erased: ErasureSet): Promise<Counts>;
}

export interface FollowDeps {
  kafka: Kafka;
  logger: Logger;
  /** The service's name: its reader's group prefix and its entry in `erasures_applied`. */
  name: string;
  secret: string | undefined;
  /** The service's database, where it notes how far it applied the topic. */
  db: Db;
  onStop(what: string, stop: () => Promise<void>): void;
}

/** Starts following (resolves once the erasures new to the store are applied); the reader to stop, or undefined without a key. */
export async function followErasures(
  deps: FollowDeps,
  follower: ErasureFollower,
  applied: AppliedErasures = new StoredAppliedErasures(deps.db, deps.name),
): Promise<ErasureReader | undefined> {
  const { logger, secret } = deps;
  if (!secret) {
    logger.warn({ store: follower.what }, 'ERASURE_KEY is not set: erased customers’ data is not deleted from this store');
    return undefined;
  }
  const reader = new ErasureReader(deps.kafka, logger, deps.name, async (notices, initial, ends) => {
    if (notices.length === 0) return;
    const counts: Counts = {};
    const { todo, topicRemade } = initial ? await newToStore(notices, applied, ends, deps) : { todo: notices, topicRemade: false };
    if (todo.length) add(counts, await follower.apply(ErasureSet.of(secret, todo)));
    if (follower.applyLocal) add(counts, await follower.applyLocal(ErasureSet.of(secret, notices)));
    await applied.save(positionsAfter(notices), topicRemade);
    if (Object.values(counts).some((n) => n > 0)) logger.info({ store: follower.what, initial, ...counts }, 'erased customers’ data deleted');
    if (initial) logger.info({ store: follower.what, erasures: notices.length, newToStore: todo.length }, 'erasures applied at start');
  });
  await reader.start();
  deps.onStop('erasure reader', () => reader.stop());
  return reader;
}

async function newToStore(
  notices: ReadNotice[],
  applied: AppliedErasures,
  ends: ReadonlyMap<number, bigint>,
  deps: FollowDeps,
): Promise<{ todo: ReadNotice[]; topicRemade: boolean }> {
  const found = unapplied(notices, await applied.load(), ends);
  if (found.topicRemade)
    deps.logger.warn({ service: deps.name }, 'the store applied erasures beyond the end of cc.erasure.v1 (a topic made anew?): applying every erasure again');
  return { todo: found.notices, topicRemade: found.topicRemade };
}

function add(into: Counts, counts: Counts): void {
  for (const [kind, n] of Object.entries(counts)) into[kind] = (into[kind] ?? 0) + n;
}
