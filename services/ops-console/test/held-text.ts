// Whether an object graph holds a string containing a value anywhere (map keys too): what the
// erasure tests ask of the console's memory, without knowing how the fold lays it out.
export function holdsText(root: unknown, needle: string): boolean {
  const visited = new Set<object>();
  const visit = (v: unknown): boolean => {
    if (typeof v === 'string') return v.includes(needle);
    if (v === null || typeof v !== 'object' || visited.has(v) || Buffer.isBuffer(v)) return false;
    visited.add(v);
    if (v instanceof Map) {
      for (const [key, value] of v) if (visit(key) || visit(value)) return true;
      return false;
    }
    if (v instanceof Set || Array.isArray(v)) {
      for (const item of v) if (visit(item)) return true;
      return false;
    }
    return Object.values(v).some(visit);
  };
  return visit(root);
}
