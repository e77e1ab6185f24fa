import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Ring } from '../src/core/rings';

describe('ring of recent values', () => {
  it('holds what an array keeping its newest values would, in the same order', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 8 }), fc.array(fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.constant(-1)), { maxLength: 60 }), (max, ops) => {
        const ring = new Ring<number>(max);
        let array: number[] = [];
        for (const v of ops) {
          if (v < 0) {
            // Dropping old values, as queue statistics do with arrivals out of their window.
            ring.retain((x) => Math.round(x * 7) % 3 !== 0);
            array = array.filter((x) => Math.round(x * 7) % 3 !== 0);
          } else {
            // Sevenths: sums that depend on the order of adding.
            ring.push(v / 7);
            array.push(v / 7);
            if (array.length > max) array.shift();
          }
          const sum = array.reduce((s, x) => s + x, 0);
          expect(ring.length).toBe(array.length);
          expect(ring.mean()).toBe(array.length ? sum / array.length : 0);
          expect(ring.count((x) => x > 50)).toBe(array.filter((x) => x > 50).length);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
