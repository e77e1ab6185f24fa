// A min-heap of due times. Entries are never removed: each carries a version, and a stale
// one (its subject moved on) is dropped when it comes due.
//
// Every decision pushes several timers (SLA warning and breach, the target step, the offer),
// so the heap keeps its entries' fields in parallel arrays rather than one object each: a push
// allocates nothing, and the comparisons read the due times without following pointers.
export type TimerKind = 'offer' | 'step' | 'sla_warning' | 'sla_breach' | 'wrap_up' | 'callback_retry' | 'promise_warning' | 'promise_due';

export interface Timer {
  at: number;
  kind: TimerKind;
  id: string;
  version: number;
}

export class TimerHeap {
  private readonly ats: number[] = [];
  private readonly kinds: TimerKind[] = [];
  private readonly ids: string[] = [];
  private readonly versions: number[] = [];

  get size(): number {
    return this.ats.length;
  }

  push(at: number, kind: TimerKind, id: string, version: number): void {
    const ats = this.ats;
    // Sift up with a hole: parents move down until the new entry's place is found.
    let i = ats.length;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (ats[p]! <= at) break;
      this.put(i, p);
      i = p;
    }
    this.set(i, at, kind, id, version);
  }

  /** Removes the earliest timer due at or before `now` into `into`; false when none is due. */
  popDue(now: number, into: Timer): boolean {
    const ats = this.ats;
    if (ats.length === 0 || ats[0]! > now) return false;
    into.at = ats[0]!;
    into.kind = this.kinds[0]!;
    into.id = this.ids[0]!;
    into.version = this.versions[0]!;
    const at = ats.pop()!;
    const kind = this.kinds.pop()!;
    const id = this.ids.pop()!;
    const version = this.versions.pop()!;
    const n = ats.length;
    if (n === 0) return true;
    // Sift the last entry down from the root, the smaller child moving up into the hole.
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      let mAt = at;
      if (l < n && ats[l]! < mAt) {
        m = l;
        mAt = ats[l]!;
      }
      if (r < n && ats[r]! < mAt) m = r;
      if (m === i) break;
      this.put(i, m);
      i = m;
    }
    this.set(i, at, kind, id, version);
    return true;
  }

  /** Copies the entry at `from` to `to`. */
  private put(to: number, from: number): void {
    this.set(to, this.ats[from]!, this.kinds[from]!, this.ids[from]!, this.versions[from]!);
  }

  private set(i: number, at: number, kind: TimerKind, id: string, version: number): void {
    this.ats[i] = at;
    this.kinds[i] = kind;
    this.ids[i] = id;
    this.versions[i] = version;
  }
}
