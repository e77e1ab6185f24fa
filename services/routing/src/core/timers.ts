// A min-heap of due times. Entries are never removed: each carries a version, and a stale
// one (its subject moved on) is dropped when it comes due.
export interface Timer {
  at: number;
  kind: 'offer' | 'step' | 'sla_warning' | 'sla_breach' | 'wrap_up' | 'callback_retry';
  id: string;
  version: number;
}

export class TimerHeap {
  private readonly items: Timer[] = [];
  /** The items' due times at the same positions: the comparisons read these without following pointers. */
  private readonly ats: number[] = [];

  get size(): number {
    return this.items.length;
  }

  push(timer: Timer): void {
    const a = this.items;
    const at = this.ats;
    a.push(timer);
    at.push(timer.at);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (at[p]! <= at[i]!) break;
      this.swap(p, i);
      i = p;
    }
  }

  /** Removes and returns the earliest timer due at or before `now`. */
  popDue(now: number): Timer | undefined {
    const a = this.items;
    const at = this.ats;
    if (a.length === 0 || at[0]! > now) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    const lastAt = at.pop()!;
    if (a.length > 0) {
      a[0] = last;
      at[0] = lastAt;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && at[l]! < at[m]!) m = l;
        if (r < a.length && at[r]! < at[m]!) m = r;
        if (m === i) break;
        this.swap(m, i);
        i = m;
      }
    }
    return top;
  }

  private swap(i: number, j: number): void {
    const a = this.items;
    const at = this.ats;
    const t = a[i]!;
    a[i] = a[j]!;
    a[j] = t;
    const d = at[i]!;
    at[i] = at[j]!;
    at[j] = d;
  }
}
