// A store following cc.erasure.v1 notes how far it applied the topic: a restart applies only the
// erasures published while it was away, while what the process keeps alone gets every erasure.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { erasureHarness, uniqueId, waitFor, type ErasureHarness } from '#libs/testing';
import type { ErasureSet } from './subjects';
import { StoredAppliedErasures } from './applied';

let harness: ErasureHarness;
beforeAll(async () => {
  harness = await erasureHarness('erasure_follow');
});
afterAll(async () => harness?.close());

interface Seen {
  store: ErasureSet[];
  local: ErasureSet[];
}

function follow(seen: Seen) {
  return harness.follow({
    what: 'test store',
    apply: async (erased) => (seen.store.push(erased), { deleted: 0 }),
    applyLocal: async (erased) => (seen.local.push(erased), { blanked: 0 }),
  });
}

const named = (sets: ErasureSet[], conversationId: string) => sets.some((s) => s.erasedAtOf('conversation', conversationId) !== undefined);

it('applies at start only the erasures new to the store, and every one to what the process keeps alone', async () => {
  const [first, second] = [uniqueId('conv'), uniqueId('conv')];
  const seen: Seen = { store: [], local: [] };
  let stop = await follow(seen);
  await harness.erase('conversation', first);
  await waitFor(() => named(seen.store, first) && named(seen.local, first), 20_000, 'the first erasure applied');
  await stop();

  await harness.erase('conversation', second);
  const again: Seen = { store: [], local: [] };
  stop = await follow(again);
  // Resolved: what the topic held at start is applied.
  expect(named(again.store, second)).toBe(true);
  expect(named(again.store, first)).toBe(false);
  expect(named(again.local, first) && named(again.local, second)).toBe(true);
  await stop();

  const positions = await new StoredAppliedErasures(harness.db, 'erasure_follow').load();
  // Noted in the service's own database, one position per partition the erasures were read from.
  expect([...positions.values()].every((next) => next > 0n) && positions.size > 0).toBe(true);
});
