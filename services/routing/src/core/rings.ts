// Bounded lists of recent values: the newest `max` are kept, older ones fall off the front.

/** For arrays kept in records (plain data). */
export function pushBounded<T>(ring: T[], value: T, max: number): void {
  ring.push(value);
  if (ring.length > max) ring.shift();
}

/**
 * A circular buffer: once full, a new value overwrites the oldest instead of every value
 * moving down by one. Read oldest first, as an array of the same values would be.
 */
export class Ring<T> {
  private items: T[] = [];
  /** Where the oldest value is, once full. */
  private start = 0;
  private cachedMean: number | undefined;

  constructor(private readonly max = 200) {}

  get length(): number {
    return this.items.length;
  }

  push(value: T): void {
    this.cachedMean = undefined;
    if (this.items.length < this.max) this.items.push(value);
    else {
      this.items[this.start] = value;
      this.start = (this.start + 1) % this.max;
    }
  }

  /** How many values satisfy `test`. */
  count(test: (value: T) => boolean): number {
    let n = 0;
    for (const v of this.items) if (test(v)) n++;
    return n;
  }

  /** Drops the values that fail `test`, keeping the others in order. */
  retain(test: (value: T) => boolean): void {
    const kept: T[] = [];
    for (let k = 0; k < this.items.length; k++) {
      const v = this.items[(this.start + k) % this.items.length]!;
      if (test(v)) kept.push(v);
    }
    this.items = kept;
    this.start = 0;
    this.cachedMean = undefined;
  }

  /** The mean, summed oldest first (0 when empty). */
  mean(this: Ring<number>): number {
    if (this.cachedMean !== undefined) return this.cachedMean;
    const n = this.items.length;
    let sum = 0;
    for (let k = 0; k < n; k++) sum += this.items[(this.start + k) % n]!;
    return (this.cachedMean = n === 0 ? 0 : sum / n);
  }
}
