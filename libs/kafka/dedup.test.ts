import { describe, expect, it } from 'vitest';
import { RecentIds } from './dedup';

describe('RecentIds', () => {
  it('remembers ids up to its capacity and forgets the oldest first', () => {
    const ids = new RecentIds(2);
    ids.add('a');
    ids.add('b');
    expect(ids.has('a')).toBe(true);
    ids.add('c');
    expect(ids.has('a')).toBe(false);
    expect(ids.has('b')).toBe(true);
    expect(ids.has('c')).toBe(true);
  });
});
