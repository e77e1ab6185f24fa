// Bounded lists of recent values: the newest `max` are kept, older ones fall off the front.
const RING = 200;

export function pushBounded<T>(ring: T[], value: T, max = RING): void {
  ring.push(value);
  if (ring.length > max) ring.shift();
}

export function mean(values: number[]): number {
  if (values.length === 0) return 0;
  let sum = 0;
  for (const v of values) sum += v;
  return sum / values.length;
}
