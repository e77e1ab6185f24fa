import { describe, expect, it } from 'vitest';
import { positionsAfter, unapplied } from './applied';
import type { ReadNotice } from './reader';

const notice = (partition: number, offset: number): ReadNotice => ({
  subjectKey: `k${partition}-${offset}`,
  erasedAt: new Date(0),
  partition,
  offset: BigInt(offset),
});

describe('erasures a store has applied', () => {
  const read = [notice(0, 0), notice(0, 4), notice(1, 2), notice(2, 7)];

  it('leaves out what the store applied, partition by partition', () => {
    const applied = new Map([
      [0, 4n],
      [1, 3n],
    ]);
    const ends = new Map([
      [0, 5n],
      [1, 3n],
      [2, 8n],
    ]);
    expect(unapplied(read, applied, ends)).toEqual({ notices: [notice(0, 4), notice(2, 7)], topicRemade: false });
    expect(unapplied(read, new Map(), ends).notices).toEqual(read);
  });

  it('applies everything again when the store is ahead of the topic (a topic made anew)', () => {
    const ends = new Map([[0, 5n]]);
    expect(unapplied(read, new Map([[0, 9n]]), ends)).toEqual({ notices: read, topicRemade: true });
    // A partition the topic no longer has counts as empty.
    expect(unapplied(read, new Map([[3, 1n]]), ends).topicRemade).toBe(true);
  });

  it('notes the next offset after each partition’s last notice', () => {
    expect(positionsAfter([notice(1, 2), notice(0, 4), notice(0, 0)])).toEqual(
      new Map([
        [1, 3n],
        [0, 5n],
      ]),
    );
    expect(positionsAfter([])).toEqual(new Map());
  });
});
