// A service's own store following cc.erasure.v1: what the topic held at start is applied before
// the service goes on (one pass over its store), each later batch as it arrives. The store's
// part says what it deleted, counted in the log (never a key or a value).
import type { Kafka } from 'kafkajs';
import type { Logger } from '#libs/observability';
import { ErasureReader } from './reader';
import { ErasureSet } from './subjects';

export interface ErasureFollower {
  /** Which store, for the log. */
  what: string;
  /** Deletes or scrubs what the store keeps of the erased subjects; answers counts by kind. */
  apply(erased: ErasureSet): Promise<Record<string, number>>;
}

/** Starts following (resolves once the existing erasures are applied); the reader to stop, or undefined without a key. */
export async function followErasures(
  deps: { kafka: Kafka; logger: Logger; name: string; secret: string | undefined; onStop(what: string, stop: () => Promise<void>): void },
  follower: ErasureFollower,
): Promise<ErasureReader | undefined> {
  const { logger, secret } = deps;
  if (!secret) {
    logger.warn({ store: follower.what }, 'ERASURE_KEY is not set: erased customers’ data is not deleted from this store');
    return undefined;
  }
  const reader = new ErasureReader(deps.kafka, logger, deps.name, async (notices, initial) => {
    if (notices.length === 0) return;
    const counts = await follower.apply(ErasureSet.of(secret, notices));
    if (Object.values(counts).some((n) => n > 0)) logger.info({ store: follower.what, initial, ...counts }, 'erased customers’ data deleted');
  });
  await reader.start();
  deps.onStop('erasure reader', () => reader.stop());
  return reader;
}
