// A min-heap of due times. Entries are never removed: each carries a version, and a stale
// one (its subject moved on) is dropped when it comes due.
export interface Timer {
  at: number;
  kind: 'offer' | 'step' | 'sla_warning' | 'sla_breach' | 'wrap_up';
  id: string;
  version: number;
}

export class TimerHeap {
  private readonly items: Timer[] = [];

  get size(): number {
    return this.items.length;
  }

  push(timer: Timer): void {
    const a = this.items;
    a.push(timer);
    let i = a.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]!.at <= a[i]!.at) break;
      [a[p], a[i]] = [a[i]!, a[p]!];
      i = p;
    }
  }

  /** Removes and returns the earliest timer due at or before `now`. */
  popDue(now: number): Timer | undefined {
    const a = this.items;
    if (a.length === 0 || a[0]!.at > now) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length > 0) {
      a[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < a.length && a[l]!.at < a[m]!.at) m = l;
        if (r < a.length && a[r]!.at < a[m]!.at) m = r;
        if (m === i) break;
        [a[m], a[i]] = [a[i]!, a[m]!];
        i = m;
      }
    }
    return top;
  }
}
